"""Work beside the web app: fixed ticks (APScheduler 3.x), instance heartbeats, leadership.

APScheduler only fires fixed-interval ticks; what is due lives in our tables, never in its job
store. On PostgreSQL, several instances may run. Each registers in ``dispatch_instance`` and
beats every ~2 s (``crisis.dispatch.instances``); the same beat puts back the claims of an
instance that stopped beating, and takes or renews the scheduler lease
(``crisis.app.leadership``): its holder is the leader and runs the leader-only ticks (clocks,
escalations, checkpoints), each write transaction fenced by the lease's token. Another
instance takes over within the lease (~8 s) when the leader dies or freezes. Ticks open for
everyone (the dispatcher) rely on ``FOR UPDATE SKIP LOCKED``. On SQLite there is a single
process, which leads, and which releases at start what an earlier one left ``sending``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app import ticks
from crisis.app.checkpointing import Checkpointer, checkpoint_tick
from crisis.app.clock import Clock
from crisis.app.db import Database
from crisis.app.escalation_tick import TICK_SECONDS, escalation_tick
from crisis.app.exercise_tick import exercise_tick
from crisis.app.leadership import Fenced, Lease, LostLeadership
from crisis.app.settings import Settings
from crisis.dispatch import instances, interruptions, recovery
from crisis.dispatch.dispatcher import Dispatcher
from crisis.dispatch.transactions import is_locked, write

log = logging.getLogger("tocsin.background")

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
    leader_check_seconds: float = 2.0  # the heartbeat, and the lease's renewal
    lease_seconds: float = 8.0
    dead_after_seconds: float = 6.0  # an instance silent this long has its claims put back
    instance_id: str = field(default_factory=instances.new_instance_id)
    jobs: list[_Job] = field(default_factory=list)
    startup: list[Tick] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    stop_grace_seconds: float = 30.0
    _in_flight: set[asyncio.Task[object]] = field(default_factory=set)
    _was_leader: bool = False
    _registered: bool = False
    lease: Lease = field(init=False)

    def __post_init__(self) -> None:
        self.lease = Lease(db=self.db, holder=self.instance_id, ttl_seconds=self.lease_seconds)

    @property
    def is_leader(self) -> bool:
        return self.lease.held

    @property
    def fenced(self) -> Database:
        """The database as leader-only ticks must write to it: each transaction fenced."""
        return Fenced(self.db, self.lease)

    def every(self, name: str, seconds: float, tick: Tick, *, leader_only: bool) -> None:
        self.jobs.append(_Job(name, seconds, tick, leader_only))

    def at_start(self, tick: Tick) -> None:
        """Run once when the service starts (catch up what came due while it was down)."""
        self.startup.append(tick)

    def at_stop(self, close: Callable[[], Awaitable[None]]) -> None:
        """Run once when the service stops, after the last tick (close the channels)."""
        self.shutdown.append(close)

    async def _register(self) -> None:
        """Register; on SQLite, a long write of another process (a big `tocsin contacts
        import`) may hold the lock past the busy timeout: wait for it rather than die."""
        while True:
            try:
                return await self._register_once()
            except OperationalError as error:
                if not is_locked(error):
                    raise
                log.warning("database locked by another writer at start: registering again")
                await asyncio.sleep(1.0)

    async def _register_once(self) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            await instances.register(
                session, instance_id=self.instance_id, name=instances.instance_name(), now=now
            )
            if self.db.dialect != "postgresql":  # one instance: what is sending was the last one's
                cut_off = await interruptions.sending(session, where=sa.true())
                released = await recovery.release_sending(session, now=now)
                await interruptions.journal_them(session, cut_off, now=now)
                if released:
                    log.warning("%d deliveries left sending by the last run released", released)
        self._registered = True

    async def _beat(self) -> None:
        """This instance is alive; a dead one's claims go back; the lease is taken or renewed."""
        now = self.clock.now()
        dead_after = timedelta(seconds=self.dead_after_seconds)

        async def beat(session: AsyncSession) -> int:
            await instances.beat(session, instance_id=self.instance_id, now=now)
            return await instances.recover_dead(
                session, me=self.instance_id, now=now, dead_after=dead_after
            )

        recovered = await write(self.db, beat)  # SQLite's lock: retried with a bound
        if recovered:
            log.warning("%d deliveries of a stopped instance put back", recovered)

    async def _refresh_leadership(self) -> None:
        try:
            if self._registered:
                await self._beat()
            await self.lease.refresh()
        except (SQLAlchemyError, DBAPIError, OSError):
            log.warning("heartbeat or leadership renewal failed")
        self._set_leader(self.is_leader)

    def _set_leader(self, leader: bool) -> None:
        if leader != self._was_leader:
            log.info("scheduler leadership %s", "acquired" if leader else "lost")
        self._was_leader = leader

    async def _run(self, job: _Job) -> None:
        if job.leader_only and not self.is_leader:
            return
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await job.tick(self.clock.now())
        except LostLeadership:
            log.warning("tick %s refused: the scheduler lease is no longer ours", job.name)
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
        await self._register()
        await self._refresh_leadership()
        if self.is_leader:
            for tick in self.startup:
                try:
                    await tick(self.clock.now())
                except LostLeadership:
                    log.warning("catching up at start refused: the scheduler lease was lost")
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
            await self._last_beat()  # the dispatcher's grace starts from a fresh heartbeat
            for close in self.shutdown:
                await close()
            await self._stopped()

    async def _last_beat(self) -> None:
        try:
            await self._beat()
        except (SQLAlchemyError, DBAPIError, OSError):
            log.warning("last heartbeat failed")

    async def _stopped(self) -> None:
        """Marked stopped (others need not wait for its heartbeat), the lease handed over."""
        try:
            async with self.db.transaction() as session:
                await instances.stopped(session, instance_id=self.instance_id, now=self.clock.now())
            await self.lease.release()
        except (SQLAlchemyError, DBAPIError, OSError):
            log.warning("could not mark this instance stopped; its heartbeat will run out")


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
        background = Background(
            db=db,
            clock=clock,
            leader_check_seconds=settings.heartbeat_seconds,
            lease_seconds=settings.leader_lease_seconds,
            dead_after_seconds=settings.instance_dead_after_seconds,
        )
        leader = background.fenced  # every leader-only write checks the lease's token first
        background.at_start(ticks.catch_up(leader, settings))
        background.every(
            "clocks",
            settings.clock_tick_seconds,
            ticks.clock_tick(leader, settings),
            leader_only=True,
        )
        background.every(
            "bulletins",
            max(tick_seconds, TICK_SECONDS),
            escalation_tick(leader, settings),
            leader_only=True,
        )
        background.at_start(exercise_tick(leader, settings, catch_up=True))
        background.every(
            "exercises",
            settings.exercise_tick_seconds,
            exercise_tick(leader, settings),
            leader_only=True,
        )
        checkpointer = Checkpointer.from_settings(settings)
        if checkpointer is not None:  # at start too: a closure missed while down is caught up
            tick = checkpoint_tick(leader, checkpointer)
            background.at_start(tick)
            seconds = settings.checkpoint_tick_seconds
            background.every("checkpoints", seconds, tick, leader_only=True)
    if dispatcher is not None:  # every instance dispatches; claims skip each other's rows
        seconds = dispatcher.tuning.interval_seconds
        dispatcher.claimant = background.instance_id
        background.every("dispatch", seconds, dispatcher.tick, leader_only=False)
        background.at_stop(dispatcher.aclose)
    return background
