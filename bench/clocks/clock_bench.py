"""1,000 clocks due at once: delay from threshold to alert enqueued, and start-up catch-up.

    .venv/bin/python -m bench.clocks.clock_bench [--clocks 1000] [--postgres SERVER_URL]
        [--no-analyze] [--phases] [--profile FILE]

SQLite runs on a throwaway file; `--postgres postgresql://postgres@127.0.0.1/postgres` creates
a throwaway database on that server, analysed after seeding as autovacuum would have done by the
time the thresholds come due (`--no-analyze`: the statistics of never-analysed tables), and drops
it afterwards. The measured part is the service's whole clock tick
(`crisis.app.ticks.clock_tick`: met clocks, page escalations, then alerts committed batch after
batch): an alert's delay is the wait for the next tick (at worst `clock_tick_seconds`) plus the
time from the tick's start until its batch commits.
Reported: p50/p99/max with the worst-case tick phase, the load average next to each figure,
and (`--phases`) the time per alert in each part of the work.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.databases import throwaway
from crisis import journal_batch
from crisis.app import bootstrap
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.app.ticks import catch_up, clock_tick
from crisis.cell import clock_alerts, watch
from crisis.cell.clocks import ClockCode, ClockRules
from crisis.cell.crises import Crisis
from crisis.dispatch import outbox
from tests.crisis.lifecycle_support import roster

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} / {five:.2f}"


async def _seed(db: Database, count: int) -> None:
    from crisis.cell import clocks

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


async def _analyze(db: Database) -> None:
    """On PostgreSQL, the statistics autovacuum gathers while the clocks run.

    The thresholds come due 30 minutes after the clocks start; autovacuum analyses a table a
    minute or so after a tenth of it changed. Without statistics (a table never analysed), the
    planner takes the 4,000 fresh alert rows for a handful and joins them to the clocks by a
    nested loop over every clock (hundreds of ms). SQLite gathers none by itself: left as is.
    """
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE"))
            await conn.commit()


PARTS: list[tuple[Any, str]] = [
    (clock_alerts, "_due"),
    (clock_alerts, "_claim"),
    (clock_alerts, "staff_lists"),
    (outbox, "enqueue_many"),
    (journal_batch, "append_many"),
    (watch, "record_met"),
    (watch, "escalate_pages"),
]


class _Phases:
    """Wall time spent in each part of the tick (module functions wrapped while measuring)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.saved: list[tuple[Any, str, Any]] = []

    def _wrap(self, module: Any, name: str) -> None:
        inner = getattr(module, name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await inner(*args, **kwargs)
            finally:
                self.spent[name] += time.perf_counter() - start

        self.saved.append((module, name, inner))
        setattr(module, name, timed)

    def _before_commit(self, _session: Any) -> None:
        self.committing = time.perf_counter()

    def _after_commit(self, _session: Any) -> None:
        self.spent["commit"] += time.perf_counter() - self.committing

    def __enter__(self) -> _Phases:
        for module, name in PARTS:
            self._wrap(module, name)
        sa.event.listen(Session, "before_commit", self._before_commit)
        sa.event.listen(Session, "after_commit", self._after_commit)
        return self

    def __exit__(self, *_exc: object) -> None:
        for module, name, inner in self.saved:
            setattr(module, name, inner)
        sa.event.remove(Session, "before_commit", self._before_commit)
        sa.event.remove(Session, "after_commit", self._after_commit)

    def report(self, alerts: int) -> None:
        for name, spent in self.spent.items():
            print(f"    {name:15} {spent:7.3f} s  {spent / alerts * 1000:6.3f} ms/alert")


class _CommitTimes:
    """Alerts of each `send_due` batch, stamped when their transaction has committed."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.pending = 0
        self.delays: list[float] = []
        self.send_due = clock_alerts.send_due

    async def _send_due(self, session: Any, **kwargs: Any) -> list[clock_alerts.SentAlert]:
        sent = await self.send_due(session, **kwargs)
        self.pending += len(sent)
        return sent

    def _after_commit(self, _session: Any) -> None:
        self.delays += [time.perf_counter() - self.start] * self.pending
        self.pending = 0

    def __enter__(self) -> _CommitTimes:
        clock_alerts.send_due = self._send_due
        sa.event.listen(Session, "after_commit", self._after_commit)
        return self

    def __exit__(self, *_exc: object) -> None:
        clock_alerts.send_due = self.send_due
        sa.event.remove(Session, "after_commit", self._after_commit)


async def _due_at_once(db: Database, settings: Settings) -> list[float]:
    """The service's whole clock tick (met clocks, escalations, alerts) at the threshold."""
    tick = clock_tick(db, settings)
    with _CommitTimes() as times:
        await tick(T0 + timedelta(minutes=30))
    return [settings.clock_tick_seconds + delay for delay in times.delays]


async def run(
    count: int, postgres: str | None, profile: str | None, phases: bool, *, analyze: bool = True
) -> None:
    async with throwaway(postgres, name="clocks") as (db, url):
        await bootstrap.prepare(db, url)
        settings = Settings(database_url=url)
        await _seed(db, count)
        if analyze:
            await _analyze(db)
        profiler = cProfile.Profile() if profile else None
        print(f"before: {_load()}")
        if profiler:
            profiler.enable()
        cpu = time.process_time()
        with _Phases() as parts:
            delays = sorted(await _due_at_once(db, settings))
        cpu = time.process_time() - cpu
        p99 = delays[int(len(delays) * 0.99) - 1]
        print(
            f"{len(delays)} alerts due at once ({db.dialect}), tick {settings.clock_tick_seconds} s"
        )
        print(
            f"  delay p50 {statistics.median(delays):.3f} s  p99 {p99:.3f} s"
            f"  max {delays[-1]:.3f} s  (CPU {cpu:.3f} s, {_load()})"
        )
        if phases:
            parts.report(len(delays))
        # Start-up after an outage: 45, 55 and 60 passed while down, for every clock.
        with _Phases() as parts:
            start, cpu = time.perf_counter(), time.process_time()
            await catch_up(db, settings)(T0 + timedelta(minutes=61))
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)  # type: ignore[arg-type]
        async with db.read() as session:
            late = await session.scalar(sa.text("SELECT count(*) FROM clock_alert WHERE late"))
        print(
            f"  catch-up at start: {late} alerts (marked late) in {elapsed:.3f} s"
            f"  (CPU {cpu:.3f} s, {_load()})"
        )
        if phases:
            parts.report(int(late or 0))
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clocks", type=int, default=1000)
    parser.add_argument("--postgres", help="server URL; a throwaway database is made there")
    parser.add_argument("--phases", action="store_true", help="time per alert in each part")
    parser.add_argument(
        "--no-analyze", action="store_true", help="PostgreSQL: leave the tables unanalysed"
    )
    parser.add_argument("--profile", help="write cProfile stats of the measured part here")
    args = parser.parse_args()
    asyncio.run(
        run(args.clocks, args.postgres, args.profile, args.phases, analyze=not args.no_analyze)
    )


if __name__ == "__main__":
    main()
