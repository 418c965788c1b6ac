"""1,000 clocks due at once: delay from threshold to alert enqueued, and start-up catch-up.

    .venv/bin/python -m bench.clocks.clock_bench [--clocks 1000]

Each alert is committed (outbox rows + `sent_at` + journal entry) in batches of 500; an
alert's delay is the wait for the next tick (at worst `clock_tick_seconds`) plus the time
until its batch commits. Reported: p50/p99/max with the worst-case tick phase.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crisis import clock_alerts
from crisis.app import bootstrap
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.app.ticks import ALERT_BATCH, catch_up
from crisis.clocks import ClockCode, ClockRules
from crisis.crises import Crisis
from tests.crisis.lifecycle_support import roster

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


async def _seed(db: Database, count: int) -> None:
    from crisis import clocks

    async with db.transaction() as session:
        await roster(session, now=T0)
        for n in range(count):
            crisis = Crisis(
                title=f"Événement {n}",
                kind="crue",
                mode="real",
                communes=["80021"],
                status="cell_ordered",
                declared_at=T0,
                declared_by="bench",
                cell_ordered_at=T0,
            )
            session.add(crisis)
            await session.flush()
            assert crisis.id is not None
            await clocks.start(
                session,
                crisis_id=crisis.id,
                code=ClockCode.ES47,
                started_at=T0,
                rules=ClockRules(),
            )


async def _due_at_once(db: Database, tick_seconds: float) -> list[float]:
    now = T0 + timedelta(minutes=30)
    delays: list[float] = []
    start = time.perf_counter()
    while True:
        async with db.transaction() as session:
            sent = await clock_alerts.send_due(
                session, now=now, base_url="http://bench", limit=ALERT_BATCH
            )
        committed = time.perf_counter() - start
        delays += [tick_seconds + committed] * len(sent)
        if len(sent) < ALERT_BATCH:
            return delays


async def run(count: int, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/bench.db"
        db = Database.from_url(url)
        await bootstrap.prepare(db, url)
        settings = Settings(database_url=url)
        await _seed(db, count)
        delays = sorted(await _due_at_once(db, settings.clock_tick_seconds))
        p99 = delays[int(len(delays) * 0.99) - 1]
        print(
            f"{len(delays)} alerts due at once ({db.dialect}), tick {settings.clock_tick_seconds} s"
        )
        print(
            f"  delay p50 {statistics.median(delays):.3f} s  p99 {p99:.3f} s"
            f"  max {delays[-1]:.3f} s"
        )
        # Start-up after an outage: 45, 55 and 60 passed while down, for every clock.
        start = time.perf_counter()
        await catch_up(db, settings)(T0 + timedelta(minutes=61))
        elapsed = time.perf_counter() - start
        async with db.read() as session:
            late = (
                await session.exec(sa.text("SELECT count(*) FROM clock_alert WHERE late"))
            ).one()
        print(f"  catch-up at start: {late[0]} alerts (marked late) in {elapsed:.3f} s")
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clocks", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(run(args.clocks, None))  # a throwaway SQLite file, never a shared base


if __name__ == "__main__":
    main()
