"""Work beside the web app: fixed ticks (APScheduler 3.x) and scheduler leadership.

APScheduler only fires fixed-interval ticks; what is due lives in our tables, never in its job
store. On PostgreSQL, several instances may run: the one holding an advisory lock is the
leader and runs the leader-only ticks (clocks, escalations); another takes over within a tick
when it dies. Ticks open for everyone (the dispatcher) rely on `FOR UPDATE SKIP LOCKED`.
On SQLite there is a single process, which leads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from crisis.app import ticks
from crisis.app.checkpointing import Checkpointer, checkpoint_tick
from crisis.app.clock import Clock
from crisis.app.db import Database
from crisis.app.escalation_tick import TICK_SECONDS, escalation_tick
from crisis.app.settings import Settings
from crisis.dispatch.dispatcher import Dispatcher

log = logging.getLogger("tocsin.background")
LEADER_LOCK_KEY = 80_4747_48  # any constant shared by every instance of one deployment

Tick = Callable[[datetime], Awaitable[None]]


@dataclass
class _Job:
    name: str
    seconds: float
    tick: Tick
    leader_only: bool


@dataclass
class Background:
    db: Database
    clock: Clock
    leader_check_seconds: float = 2.0
    jobs: list[_Job] = field(default_factory=list)
    is_leader: bool = False
    _lock_connection: AsyncConnection | None = None
    startup: list[Tick] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    stop_grace_seconds: float = 30.0
    _in_flight: set[asyncio.Task[object]] = field(default_factory=set)

    def every(self, name: str, seconds: float, tick: Tick, *, leader_only: bool) -> None:
        self.jobs.append(_Job(name, seconds, tick, leader_only))

    def at_start(self, tick: Tick) -> None:
        """Run once when the service starts (catch up what came due while it was down)."""
        self.startup.append(tick)

    def at_stop(self, close: Callable[[], Awaitable[None]]) -> None:
        """Run once when the service stops, after the last tick (close the channels)."""
        self.shutdown.append(close)

    async def _refresh_leadership(self) -> None:
        if self.db.dialect != "postgresql":
            self.is_leader = True
            return
        try:
            if self._lock_connection is None:
                self._lock_connection = await self.db.engine.connect()
                acquired = await self._lock_connection.scalar(
                    sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}
                )
                await self._lock_connection.commit()
                if not acquired:
                    await self._lock_connection.close()
                    self._lock_connection = None
                self._set_leader(bool(acquired))
            else:
                await self._lock_connection.scalar(sa.text("SELECT 1"))
                await self._lock_connection.commit()
        except (SQLAlchemyError, DBAPIError, OSError):
            log.warning("leadership connection lost")
            self._lock_connection = None
            self._set_leader(False)

    def _set_leader(self, leader: bool) -> None:
        if leader != self.is_leader:
            log.info("scheduler leadership %s", "acquired" if leader else "released")
        self.is_leader = leader

    async def _run(self, job: _Job) -> None:
        if job.leader_only and not self.is_leader:
            return
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await job.tick(self.clock.now())
        except Exception:  # a tick that fails must not stop the next one
            log.exception("tick %s failed", job.name)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _finish_ticks(self) -> None:
        """At stop, the ticks under way end (a batch being sent is recorded), within a grace
        period after which they are cancelled (their leases expire and another takes them)."""
        if not self._in_flight:
            return
        _, late = await asyncio.wait(set(self._in_flight), timeout=self.stop_grace_seconds)
        for task in late:
            log.warning("tick still running at stop: cancelled")
            task.cancel()
        if late:
            await asyncio.wait(late)

    @asynccontextmanager
    async def running(self, _app: FastAPI | None = None) -> AsyncIterator[None]:
        await self._refresh_leadership()
        if self.is_leader:
            for tick in self.startup:
                await tick(self.clock.now())
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self._refresh_leadership,
            "interval",
            seconds=self.leader_check_seconds,
            max_instances=1,
            coalesce=True,
        )
        for job in self.jobs:
            scheduler.add_job(
                self._run,
                "interval",
                args=[job],
                seconds=job.seconds,
                max_instances=1,
                coalesce=True,
                id=job.name,
                misfire_grace_time=None,
            )
        scheduler.start()
        try:
            yield
        finally:
            scheduler.pause()  # no new tick; the ones under way end (shutdown cancels them)
            await self._finish_ticks()
            scheduler.shutdown(wait=False)
            for close in self.shutdown:
                await close()
            if self._lock_connection is not None:
                await self._lock_connection.close()


def build_background(
    db: Database,
    clock: Clock,
    *,
    tick_seconds: float,
    settings: Settings | None = None,
    dispatcher: Dispatcher | None = None,
) -> Background:
    """Every tick of the service, registered in one place."""
    background = Background(db=db, clock=clock, leader_check_seconds=max(tick_seconds, 1.0))
    if settings is not None:
        background.at_start(ticks.catch_up(db, settings))
        background.every(
            "clocks", settings.clock_tick_seconds, ticks.clock_tick(db, settings), leader_only=True
        )
        background.every(
            "bulletins",
            max(tick_seconds, TICK_SECONDS),
            escalation_tick(db, settings),
            leader_only=True,
        )
        checkpointer = Checkpointer.from_settings(settings)
        if checkpointer is not None:  # at start too: a closure missed while down is caught up
            tick = checkpoint_tick(db, checkpointer)
            background.at_start(tick)
            seconds = settings.checkpoint_tick_seconds
            background.every("checkpoints", seconds, tick, leader_only=True)
    if dispatcher is not None:  # every instance dispatches; claims skip each other's rows
        seconds = dispatcher.tuning.interval_seconds
        background.every("dispatch", seconds, dispatcher.tick, leader_only=False)
        background.at_stop(dispatcher.aclose)
    return background
