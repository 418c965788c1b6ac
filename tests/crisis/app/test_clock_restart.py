"""Reliability: a real `tocsin serve` killed with SIGKILL between two thresholds, restarted.

Time is driven through the `TOCSIN_FAKE_NOW` test hook (the wall clock shifted to start at
that instant), so the test waits seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from crisis.app.db import Database
from tests.crisis.lifecycle_support import ordered_crisis, roster
from tests.process_support import free_port

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def _serve(db_url: str, fake_now: datetime, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {
        "TOCSIN_FAKE_NOW": fake_now.isoformat(),
        "TOCSIN_CLOCK_TICK_SECONDS": "0.2",
        "TOCSIN_SECRET_KEY": "restart-test",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "crisis", "serve", "--db", db_url, "--port", str(port)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    return process, f"http://127.0.0.1:{port}"


def _sent(path: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT threshold_min, late FROM clock_alert WHERE sent_at IS NOT NULL"
            " ORDER BY threshold_min"
        ).fetchall()
    return [(int(t), int(late)) for t, late in rows]


def _wait_for(predicate, seconds: float = 40) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_a_threshold_missed_while_killed_is_sent_once_at_restart(tmp_path: Path) -> None:
    path = tmp_path / "tocsin.db"
    db_url = f"sqlite:///{path}"
    subprocess.run(
        [sys.executable, "-m", "crisis", "db", "upgrade", "--db", db_url],
        check=True,
        capture_output=True,
    )

    async def seed() -> None:
        db = Database.from_url(db_url)
        async with db.transaction() as session:
            await roster(session, now=T0)
            await ordered_crisis(session, now=T0)
        await db.dispose()

    asyncio.run(seed())
    log = tmp_path / "serve.log"
    first, _ = _serve(db_url, T0 + timedelta(minutes=30, seconds=1), log)
    try:
        _wait_for(lambda: _sent(path) != [])
        time.sleep(1)  # a few more ticks: nothing twice
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert [t for t, _ in _sent(path)] == [30]
    # down from 14:30 to 14:46: the 45-minute threshold passes while nobody runs
    second, url = _serve(db_url, T0 + timedelta(minutes=46), log)
    try:
        _wait_for(lambda: len(_sent(path)) == 2)
        _wait_for(lambda: httpx.get(f"{url}/readyz", timeout=1).status_code == 200)
        time.sleep(1)
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(timeout=10)
    assert [(t, late) for t, late in _sent(path)][1:] == [(45, 1)]
    with sqlite3.connect(path) as conn:
        payloads = [
            json.loads(p)
            for (p,) in conn.execute(
                "SELECT payload FROM journal_entry WHERE action = 'clock.alert_sent' ORDER BY id"
            )
        ]
        deliveries = conn.execute(
            "SELECT count(*) FROM delivery WHERE purpose = 'clock_alert'"
        ).fetchone()[0]
    assert [(p["threshold_min"], p["late"]) for p in payloads][1:] == [(45, True)]
    assert len(payloads) == 2
    assert deliveries == 2 * 3  # each alert to the three level-1 people on duty
