"""`tocsin worker` and the worker child of `tocsin serve`, as real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from typer.testing import CliRunner

from channels.sandbox.smtp import SmtpFake
from crisis.app import cli
from crisis.app.db import Database
from tests.crisis.dispatch_support import deliveries, emails, enqueue
from tests.process_support import free_port
from tests.support import FrozenClock


async def _until(predicate: Callable[[], object], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_tocsin_worker_sends_a_pending_delivery_then_stops_cleanly_on_sigterm(
    db: Database, clock: FrozenClock, database_url: str, project_root: Path
) -> None:
    smtp = SmtpFake()
    await smtp.start()
    worker = None
    try:
        await enqueue(db, now=clock.now(), addresses=emails(3))
        env = os.environ | {
            "TOCSIN_SECRET_KEY": "worker-test",
            "TOCSIN_CHANNELS__SMTP__HOST": "127.0.0.1",
            "TOCSIN_CHANNELS__SMTP__PORT": str(smtp.port),
            "TOCSIN_CHANNELS__SMTP__SECURITY": "none",
        }
        worker = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "crisis", "worker", "--db", database_url),
            cwd=project_root,
            env=env,
        )
        await _until(lambda: len(smtp.state.received) == 3, timeout=60)
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(worker.wait(), 20) == 0
    finally:
        if worker is not None and worker.returncode is None:
            worker.kill()
        await smtp.stop()
    assert {d.status for d in await deliveries(db)} == {"sent"}
    assert sorted(m.recipient for m in smtp.state.received) == sorted(emails(3))


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def _wait(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _serve(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A real `tocsin serve`, once it answers; with the pid of its worker child."""
    db_url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "crisis", "serve", "--db", db_url, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ | {"TOCSIN_SECRET_KEY": "serve-test"},
    )

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def workers() -> list[int]:
        return [
            pid
            for pid in _children(process.pid)
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]

    def worker_running() -> bool:
        return '"message": "worker started"' in (tmp_path / "serve.log").read_text()

    started = _wait(ready, 90) and _wait(worker_running, 60) and len(workers()) == 1
    assert started, (tmp_path / "serve.log").read_text()
    return process, workers()[0]


def _worker_children(process: subprocess.Popen[bytes]) -> list[int]:
    return [
        pid
        for pid in _children(process.pid)
        if _alive(pid) and b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def test_a_worker_child_killed_under_serve_is_started_again_and_the_death_logged(
    tmp_path: Path,
) -> None:
    process, worker = _serve(tmp_path)
    try:
        os.kill(worker, signal.SIGKILL)
        assert _wait(lambda: [p for p in _worker_children(process) if p != worker] != [], 60)
        started = '"message": "worker started"'
        assert _wait(lambda: (tmp_path / "serve.log").read_text().count(started) == 2, 60)
        log = (tmp_path / "serve.log").read_text()
        assert f"worker child {worker} ended unexpectedly" in log and "(exit code -9)" in log
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0


def test_the_worker_child_of_serve_ends_when_serve_is_killed(tmp_path: Path) -> None:
    process, worker = _serve(tmp_path)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert _wait(lambda: not _alive(worker), 15)


def test_serve_stops_its_worker_child_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    process, worker = _serve(tmp_path)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert not _alive(worker)
    log = (tmp_path / "serve.log").read_text()
    assert "worker stopped" in log


def test_several_web_processes_on_sqlite_are_refused_with_exit_2(tmp_path: Path) -> None:
    refused = CliRunner().invoke(
        cli.app,
        ["serve", "--web-processes", "2", "--db", f"sqlite:///{tmp_path / 'tocsin.db'}"],
    )
    assert refused.exit_code == 2
    assert "PostgreSQL" in refused.output
    assert not (tmp_path / "tocsin.db").exists()  # refused before anything is prepared


def test_the_demo_without_its_worker_is_refused_with_exit_2(tmp_path: Path) -> None:
    refused = CliRunner().invoke(
        cli.app, ["serve", "--demo", "--web-only", "--db", f"sqlite:///{tmp_path / 'tocsin.db'}"]
    )
    assert refused.exit_code == 2 and "--web-only" in refused.output
    assert not (tmp_path / "tocsin.db").exists()
