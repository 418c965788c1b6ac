"""Instances that start together do not race (issue 17 items 2 and 7): one prepares the
database at a time, and a SQLite file serves a single instance."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from crisis.app import cli
from crisis.app.instance_locks import AlreadyRunning, hold_single_instance
from crisis.app.serving import shared_secret
from crisis.app.settings import Settings
from tests.conftest import ON_POSTGRESQL, _create_postgres_database, _drop_postgres_database

_PREPARE_AT = """
import asyncio, sys, time
from crisis.app import bootstrap, migrate
from crisis.app.db import Database

async def main(url: str) -> bool:
    db = Database.from_url(url)
    try:
        await bootstrap.prepare(db, url)
        return await migrate.is_current(db.engine)
    finally:
        await db.dispose()

url, start = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))  # every process imported: they start at one instant
sys.exit(0 if asyncio.run(main(url)) else 3)
"""


def _prepare_together(url: str, instances: int) -> list[int]:
    """`instances` processes preparing `url` at the same instant; their exit codes."""
    start = str(time.time() + 4)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PREPARE_AT, url, start],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(instances)
    ]
    codes = []
    for process in processes:
        _out, errors = process.communicate(timeout=120)
        codes.append(process.returncode)
        assert process.returncode == 0, errors.decode()[-2000:]
    return codes


def test_instances_started_together_on_a_fresh_sqlite_file_all_find_the_schema_at_head(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert _prepare_together(url, 3) == [0, 0, 0]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL")
def test_instances_started_together_on_postgresql_all_find_the_schema_at_head(
    postgres_server: str,
) -> None:
    server = postgres_server
    url, name = _create_postgres_database(server)
    try:
        assert _prepare_together(url, 3) == [0, 0, 0]
    finally:
        _drop_postgres_database(server, name)


def test_a_second_web_process_on_the_same_sqlite_file_is_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    first = hold_single_instance(url, "web")
    assert first is not None
    with pytest.raises(AlreadyRunning) as refused:
        hold_single_instance(url, "web")
    message = str(refused.value)
    assert str(tmp_path / "tocsin.db") in message and f"processus {os.getpid()}" in message
    assert "PostgreSQL" in message
    first.close()
    again = hold_single_instance(url, "web")  # released with its holder
    assert again is not None
    again.close()


def test_one_web_and_one_worker_share_a_sqlite_file_but_not_two_workers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    web, worker = hold_single_instance(url, "web"), hold_single_instance(url, "worker")
    assert web is not None and worker is not None
    with pytest.raises(AlreadyRunning, match="envois"):
        hold_single_instance(url, "worker")
    web.close()
    worker.close()


def test_postgresql_and_in_memory_databases_take_no_instance_lock() -> None:
    assert hold_single_instance("postgresql://tocsin@db/tocsin", "web") is None
    assert hold_single_instance("sqlite://", "web") is None


def _tocsin(*args: str) -> Result:
    return CliRunner().invoke(cli.app, list(args))


def test_outside_the_demo_serve_and_worker_refuse_to_start_without_the_shared_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOCSIN_SECRET_KEY", raising=False)
    db = f"sqlite:///{tmp_path / 'tocsin.db'}"
    for refused in (_tocsin("serve", "--db", db), _tocsin("worker", "--db", db)):
        assert refused.exit_code == 2
        assert "TOCSIN_SECRET_KEY" in refused.output and "token_urlsafe" in refused.output
    assert not (tmp_path / "tocsin.db").exists()  # refused before anything is prepared


def test_the_demo_draws_one_key_that_the_web_and_its_worker_child_share() -> None:
    demo = shared_secret(Settings(demo=True, secret_key=None))
    assert demo.secret_key is not None and len(demo.secret_key.get_secret_value()) >= 48
    given = Settings(secret_key=SecretStr("gardée-au-coffre"))
    assert shared_secret(given) is given


def test_a_second_serve_or_worker_on_a_sqlite_file_in_use_is_refused_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOCSIN_SECRET_KEY", "clé-de-test")
    db = f"sqlite:///{tmp_path / 'tocsin.db'}"
    assert _tocsin("db", "upgrade", "--db", db).exit_code == 0
    for role, command in (("web", "serve"), ("worker", "serve"), ("worker", "worker")):
        held = hold_single_instance(db, role)
        assert held is not None
        refused = _tocsin(command, "--db", db)
        held.close()
        assert refused.exit_code == 2, (role, command, refused.output)
        assert "une autre instance de Tocsin" in refused.output and "PostgreSQL" in refused.output
