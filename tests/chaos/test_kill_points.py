"""`tocsin serve` killed (SIGKILL) at seeded random points of a fan-out and a clock tick.

Issue 22 item 3, bounded for CI: ``TOCSIN_CHAOS_KILLS`` kill points (default 3) over a
fan-out of ``TOCSIN_CHAOS_FAN_OUT`` e-mails (default 300), the 30-minute alert of every clock
due when the first process starts; ``TOCSIN_CHAOS_SEED`` picks the points. After each kill the
service is started again, and at the end: every delivery settled, none lost (every address
received), a resend only of a send under way at a kill (same Message-ID), no clock alert sent
twice, the journal verifies, and each restart answered ``/readyz`` within 5 s of CPU (or twice
the first start's).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from channels.sandbox.smtp import SmtpFake
from crisis.app.db import Database
from tests.chaos.support import assert_restarts_cost_like_a_first_start, cpu_seconds
from tests.crisis.dispatch_support import emails, enqueue
from tests.crisis.lifecycle_support import ordered_crisis, roster
from tests.process_support import UNSETTLED, answers, free_port, scalar, service_env, until
from tests.support import FrozenClock

pytestmark = pytest.mark.chaos

KILLS = int(os.environ.get("TOCSIN_CHAOS_KILLS", "3"))
FAN_OUT = int(os.environ.get("TOCSIN_CHAOS_FAN_OUT", "300"))
SEED = int(os.environ.get("TOCSIN_CHAOS_SEED", "22"))


async def _serve(
    database_url: str, smtp: SmtpFake, fake_now: str, root: Path
) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    env = (
        os.environ
        | service_env(smtp, rate=200)
        | {
            "TOCSIN_FAKE_NOW": fake_now,
            "TOCSIN_CLOCK_TICK_SECONDS": "0.2",
            "TOCSIN_DISPATCH__CLAIM_SIZE": "25",
            "TOCSIN_LEADER_LEASE_SECONDS": "3",
        }
    )
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "crisis", "serve", "--db", database_url, "--port", str(port)),
        cwd=root,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # its group: the service and its worker child, for their CPU
    )
    return process, f"http://127.0.0.1:{port}"


async def test_a_service_killed_at_seeded_points_of_a_fan_out_and_a_tick_loses_and_repeats_nothing(
    db: Database, clock: FrozenClock, database_url: str, project_root: Path
) -> None:
    rng = random.Random(SEED)
    smtp = SmtpFake()
    await smtp.start()
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        await ordered_crisis(session, now=clock.now())
    addresses = emails(FAN_OUT, prefix="chaos")
    await enqueue(db, now=clock.now(), addresses=addresses)
    fake_now = (clock.now() + timedelta(minutes=30, seconds=1)).isoformat()
    # Each kill point: after a seeded number of further e-mails (0: during the first tick).
    points = sorted(rng.randint(0, FAN_OUT - 1) for _ in range(KILLS))
    ready: list[float] = []
    cpu: list[float] = []  # CPU seconds of each start until it answered
    in_flight: set[str] = set()
    try:
        for point in points:
            process, url = await _serve(database_url, smtp, fake_now, project_root)
            ready.append(await until(lambda u=url: answers(u), timeout=30))  # type: ignore[misc]
            cpu.append(cpu_seconds(process.pid))
            await until(lambda p=point: len(smtp.state.received) >= p, timeout=60)  # type: ignore[misc]
            process.send_signal(signal.SIGKILL)
            await process.wait()
            async with db.read() as session:
                rows = await session.execute(
                    sa.text("SELECT address FROM delivery WHERE status = 'sending'")
                )
                in_flight |= {str(address) for (address,) in rows}
        process, url = await _serve(database_url, smtp, fake_now, project_root)
        ready.append(await until(lambda: answers(url), timeout=30))
        cpu.append(cpu_seconds(process.pid))
        await until(lambda: _count_is(db, UNSETTLED, 0), timeout=90)
        process.send_signal(signal.SIGKILL)
        await process.wait()
    finally:
        await smtp.stop()
    print(
        f"{KILLS} kill points (seed {SEED}) in {FAN_OUT} e-mails at {points}:"
        f" {smtp.state.delivered_twice} sent twice (in flight at a kill: {len(in_flight)}),"
        f" ready again in {max(ready[1:]):.1f} s at most (first start {ready[0]:.1f} s),"
        f" CPU {[round(c, 2) for c in cpu[1:]]} s (first start {cpu[0]:.2f} s)"
    )
    assert_restarts_cost_like_a_first_start(cpu)
    assert set(addresses) <= {m.recipient for m in smtp.state.received}  # none lost
    assert {m.recipient for m in smtp.state.duplicates} <= in_flight
    # The bulletin's e-mails all left; the clock alerts went to the people on duty by e-mail
    # and by channels this service has not configured, failed with that reason.
    failed = "SELECT count(*) FROM delivery WHERE status = 'failed' AND purpose = 'bulletin'"
    assert await scalar(db, failed) == 0
    async with db.read() as session:
        reasons = (
            await session.execute(
                sa.text(
                    "SELECT channel, last_error FROM delivery WHERE status = 'failed'"
                    " AND purpose = 'clock_alert'"
                )
            )
        ).all()
    assert all(reason for _, reason in reasons)
    twice = (
        "SELECT count(*) FROM (SELECT address FROM delivery WHERE purpose = 'clock_alert'"
        " GROUP BY address, channel, message_id HAVING count(*) > 1) AS d"
    )
    assert await scalar(db, twice) == 0
    sent = "SELECT count(*) FROM clock_alert WHERE threshold_min = 30 AND sent_at IS NOT NULL"
    assert await scalar(db, sent) == await scalar(
        db, "SELECT count(*) FROM clock_alert WHERE threshold_min = 30"
    )
    verify = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "crisis", "journal", "verify", "--db", database_url),
        cwd=project_root,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await verify.communicate()
    assert verify.returncode == 0, output.decode()


async def _count_is(db: Database, query: str, expected: object) -> bool:
    return await scalar(db, query) == expected
