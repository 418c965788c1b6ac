from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from crisis.app import cli
from crisis.app.settings import Settings


def tocsin(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command, in its own process (`python -m crisis`)."""
    extra = ["--db", f"sqlite:///{db}"] if db else []
    return subprocess.run(
        [sys.executable, "-m", "crisis", *args, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tocsin_here(*args: str, db: Path) -> Result:
    """The same command run in this process, for speed."""
    return CliRunner().invoke(cli.app, [*args, "--db", f"sqlite:///{db}"])


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "tocsin.db"
    assert tocsin("db", "upgrade", db=path).returncode == 0
    return path


def test_db_upgrade_creates_the_schema_and_loads_the_somme(cli_db: Path) -> None:
    with sqlite3.connect(cli_db) as conn:
        assert conn.execute("SELECT count(*) FROM geo_commune").fetchone() == (771,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_users_add_prints_a_one_time_password_and_token_is_alone_on_the_last_line(
    cli_db: Path,
) -> None:
    added = tocsin_here(
        "users", "add", "claire", "--role", "prefect", "--role", "validator", db=cli_db
    )
    assert added.exit_code == 0, added.output
    assert "Mot de passe à usage unique" in added.stdout
    token = tocsin_here("users", "token", "claire", db=cli_db)
    assert token.exit_code == 0
    assert token.stdout.strip().splitlines()[-1].startswith("tcs_")
    with sqlite3.connect(cli_db) as conn:
        (digest,) = conn.execute("SELECT digest FROM api_token").fetchone()
    assert token.stdout.strip().splitlines()[-1] not in digest


def test_bad_usage_exits_2(cli_db: Path) -> None:
    assert tocsin_here("users", "add", "x y", "--role", "prefect", db=cli_db).exit_code == 2
    assert tocsin_here("users", "add", "zoe", "--role", "roi", db=cli_db).exit_code == 2
    assert tocsin_here("users", "token", "personne", db=cli_db).exit_code == 2
    assert tocsin_here("users", "add", "zoe", db=cli_db).exit_code == 2


def test_journal_verify_passes_then_detects_a_tampered_row(cli_db: Path) -> None:
    assert tocsin_here("users", "add", "marc", "--role", "admin", db=cli_db).exit_code == 0
    ok = tocsin("journal", "verify", db=cli_db)
    assert ok.returncode == 0 and "intègre" in ok.stdout
    with sqlite3.connect(cli_db) as conn:
        conn.execute("UPDATE journal_entry SET actor = 'mallory' WHERE id = 1")
    broken = tocsin("journal", "verify", db=cli_db)
    assert broken.returncode == 1
    assert "altérée" in broken.stderr and "entrée n° 1" in broken.stderr


def test_serve_on_a_port_without_a_base_url_writes_its_links_on_that_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TOCSIN_BASE_URL", raising=False)
    monkeypatch.delenv("TOCSIN_CONFIG", raising=False)
    assert (
        cli.served_on(Settings(), host="127.0.0.1", port=8123).base_url == "http://127.0.0.1:8123"
    )
    everywhere = cli.served_on(Settings(), host="0.0.0.0", port=9000)
    assert everywhere.base_url == "http://127.0.0.1:9000"
    assert cli.served_on(Settings(), host="::1", port=9001).base_url == "http://[::1]:9001"


def test_serve_keeps_the_base_url_the_operator_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TOCSIN_BASE_URL", "https://tocsin.somme.gouv.fr")
    assert cli.served_on(Settings(), host="0.0.0.0", port=8123).base_url == (
        "https://tocsin.somme.gouv.fr"
    )
    monkeypatch.delenv("TOCSIN_BASE_URL")
    config = tmp_path / "tocsin.toml"
    config.write_text('base_url = "https://alerte.somme.gouv.fr"\n')
    monkeypatch.setenv("TOCSIN_CONFIG", str(config))
    served = cli.served_on(Settings(), host="127.0.0.1", port=8123)
    assert served.base_url == "https://alerte.somme.gouv.fr"
    monkeypatch.setenv("TOCSIN_BASE_URL", "http://127.0.0.1:8000")  # the default, set on purpose
    assert cli.served_on(Settings(), host="127.0.0.1", port=8123).base_url == (
        "http://127.0.0.1:8000"
    )
