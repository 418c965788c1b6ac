"""The dispatcher: the single choke point between the outbox and the outside world.

A pass claims due deliveries in batches (a short transaction each), sends them outside any
transaction through the channels port, paced per channel, and records the outcomes in batched
transactions. Exercise isolation (``crisis.dispatch.isolation``), rate limits
(``crisis.dispatch.pacing``), retries (``crisis.dispatch.retry``) and idempotency live here and
nowhere else.

- sent: the provider accepted the message (``provider_id``, ``sent_at``);
- retrying: a transient failure, tried again at ``next_attempt_at`` (back-off with jitter, a
  provider's ``retry_after`` as a floor) until the budget is spent;
- failed: a permanent failure, a refusal (isolation, unconfigured channel) or a spent budget;
  ``last_error`` says why, in French, for the tracking page.

Claims carry the instance's id (``claimant``). At a stop the dispatcher claims no more, lets
the sends under way finish within ``stop_grace_seconds``, and gives back what it still holds:
deliveries only queued go back to ``pending`` with the attempt not counted, those cut off
mid-send to ``retrying``. A delivery left ``sending`` by a crash goes back to ``retrying`` when
its instance stops beating (``crisis.dispatch.instances``), or at the latest once its lease has
expired; its resend carries the same idempotency key (the e-mail ``Message-ID`` derives from
it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import Channel
from channels.config import ChannelsConfig
from channels.kinds import ChannelKind
from channels.ratelimit import RateLimiters, provider_limits
from channels.registry import sections
from crisis.dispatch import interruptions, recovery, store
from crisis.dispatch.isolation import Lane, decide
from crisis.dispatch.metrics import DispatchMetrics
from crisis.dispatch.outbox import DeliveryStatus
from crisis.dispatch.pacing import Pacer, build_pacer
from crisis.dispatch.recording import DispatchReport, Flight, Recorder
from crisis.dispatch.retry import RetryPolicy
from crisis.dispatch.sending import Job, Outcome, attempt, settle
from crisis.dispatch.transactions import Transactions, write

__all__ = ["DispatchReport", "DispatchTuning", "Dispatcher", "Transactions"]

log = logging.getLogger("tocsin.dispatcher")


class DispatchTuning(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    interval_seconds: float = Field(default=0.25, gt=0)
    lease_seconds: float = Field(default=300.0, gt=0)
    # At a stop: how long the sends under way may take to finish before they are cut off.
    stop_grace_seconds: float = Field(default=5.0, ge=0)
    # Larger batches than 200/100 cut the database's share of the two cores a fan-out runs
    # on (docs/benchmarks.md, « Diffusion, 2 décembre (2) »). The window stays at 1,000: a
    # claimed delivery may wait in its channel's queue, and 1,000 Matrix messages at 5 a
    # second take 200 s, within the 300 s lease (2,000 would not, for no measurable gain).
    claim_size: int = Field(default=500, ge=1)
    window: int = Field(default=1000, ge=1)  # deliveries claimed and not yet recorded
    record_size: int = Field(default=250, ge=1)
    flush_seconds: float = Field(default=0.25, gt=0)
    retry: RetryPolicy = RetryPolicy()


class _Claim(NamedTuple):
    recovered: int
    batch: list[store.Claimed]
    modes: dict[int, str]
    renderings: dict[int, store.Rendered]


@dataclass(slots=True, eq=False)  # hashed by identity
class _Queue:
    """One channel, its pacing (which holds its claimed deliveries) and this pass' senders."""

    channel: Channel
    pacer: Pacer[Job]
    senders: set[asyncio.Task[None]] = field(default_factory=set)


class Dispatcher:
    def __init__(
        self,
        *,
        db: Transactions,
        real: Mapping[ChannelKind, Channel],
        exercise: Mapping[ChannelKind, Channel],
        real_config: ChannelsConfig | None = None,
        exercise_config: ChannelsConfig | None = None,
        tuning: DispatchTuning | None = None,
        metrics: DispatchMetrics | None = None,
        clock: Callable[[], datetime] | None = None,
        limiters: RateLimiters | None = None,
        rng: random.Random | None = None,
        personalise: Callable[[str, int], str] | None = None,
    ) -> None:
        self._db = db
        # Turns a text into the one a given delivery's recipient receives (their own signed
        # confirmation link); applied at send time, so one rendering serves every recipient.
        self._personalise = personalise
        self.tuning = tuning or DispatchTuning()
        self.metrics = metrics or DispatchMetrics()
        self._clock = clock
        self._recorder = Recorder(db, self.metrics, self.tuning.retry, rng or random.Random())
        limiters = limiters or RateLimiters()
        self._queues = {
            **_queues(Lane.REAL, real, real_config, limiters),
            **_queues(Lane.EXERCISE, exercise, exercise_config, limiters),
        }
        self._real_kinds = frozenset(real)
        self._exercise_kinds = frozenset(exercise)
        self._renderings: dict[int, store.Rendered] = {}
        self._pass = asyncio.Lock()
        self._worker: asyncio.Task[None] | None = None
        self._wanted = False
        self._latest: datetime | None = None
        self._closing = False
        self.claimant: str | None = None  # this instance's id, written on its claims
        # Claimed and not yet recorded (id: attempt), and those of them whose send began.
        self._held: dict[int, int] = {}
        # Given back at a pass' end while the database was away: tried again at the next pass,
        # not left to their lease (minutes) while this instance lives on (issue 22).
        self._unreleased: list[recovery.Held] = []
        self._started: set[int] = set()
        self._flight: Flight | None = None

    def configured(self, *, exercise: bool) -> frozenset[str]:
        """Channel names a delivery may use (``public_page`` is always there)."""
        kinds = self._exercise_kinds if exercise else self._real_kinds
        return frozenset(k.value for k in kinds) | {"public_page"}

    def _now(self, fallback: datetime) -> datetime:
        return max(fallback, self._clock()) if self._clock is not None else fallback

    # --- the scheduler's side -------------------------------------------------------------

    async def tick(self, now: datetime) -> None:
        """Ask for a pass and return at once; one pass runs at a time, in the background."""
        self._latest = now
        self._wanted = True
        if not self._closing and (self._worker is None or self._worker.done()):
            self._worker = asyncio.create_task(self._work(), name="tocsin-dispatcher")

    async def _work(self) -> None:
        while self._wanted and not self._closing and self._latest is not None:
            self._wanted = False
            try:
                await self.run(self._latest)
            except Exception:  # the last resort: the next tick tries again
                log.exception("dispatch pass failed")
                return

    async def aclose(self, *, timeout: float | None = None) -> None:
        """Stop claiming and sending what is queued, let the sends in flight finish (up to
        ``timeout``, the tuning's grace by default), give back the rest, close channels."""
        timeout = self.tuning.stop_grace_seconds if timeout is None else timeout
        self._closing = True
        for queue in self._queues.values():
            queue.pacer.clear()  # queued, never tried: given back at the pass' end
        if self._flight is not None:  # wake the pass: it waits for outcomes that won't come
            self._flight.started.set()
            self._flight.ready.set()
        if self._worker is not None and not self._worker.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), timeout)
            except TimeoutError:
                self._worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker
        for queue in self._queues.values():
            await queue.channel.aclose()

    # --- one pass -------------------------------------------------------------------------

    async def run(self, now: datetime) -> DispatchReport:
        """Send everything due at ``now``; returns when every claimed delivery is recorded."""
        async with self._pass:
            report = DispatchReport()
            if self._unreleased:  # what a failed give-back still holds
                await self._release(self._now(now))
            try:
                await self._run(now, report)
            finally:  # stopped or cancelled: what is still held goes back at once
                for queue in self._queues.values():
                    for sender in queue.senders:
                        sender.cancel()
                    queue.pacer.clear()
                await self._release(self._now(now))
            async with self._db.transaction() as session:
                self.metrics.due.set(await store.count_due(session, now=self._now(now)))
            return report

    async def _run(self, now: datetime, report: DispatchReport) -> None:
        """Keep up to ``window`` deliveries claimed and sending; record outcomes in batches.

        Claimed deliveries wait in their channel's pacer; each channel has as many sender
        coroutines as it may have sends in flight, each taking the next delivery the pacer
        releases when its previous send is over. A batch is written when ``record_size``
        outcomes are in, when every delivery in flight has one, or ``flush_seconds`` after its
        first outcome. The loop wakes once per batch, not once per outcome; the senders go on
        meanwhile, and the next claim is made as soon as a batch is recorded, so the channels
        never wait for the database.
        """
        tuning = self.tuning
        flight = self._flight = Flight(record_size=tuning.record_size)
        exhausted = False
        first = True
        while True:
            if self._closing:
                await self._drain(flight, now, report)
                return
            while (
                not exhausted
                and not self._closing
                and flight.count <= tuning.window - min(tuning.claim_size, tuning.window)
            ):
                batch = await self._claim(self._now(now), recover=first, report=report)
                first = False
                exhausted = len(batch) < tuning.claim_size
                flight.count += len(batch)
                self._queue(batch, flight)
            if flight.count == 0:
                return
            if not flight.done:
                flight.started.clear()
                await flight.started.wait()
            if not flight.full():
                flight.ready.clear()
                left = tuning.flush_seconds - (time.monotonic() - flight.oldest)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(flight.ready.wait(), max(left, 0.001))
            await self._record(flight.take(), now, report)

    async def _record(self, outcomes: list[Outcome], now: datetime, report: DispatchReport) -> None:
        await self._recorder.record(outcomes, self._now(now), report)
        for outcome in outcomes:
            self._held.pop(outcome.item.id, None)
            self._started.discard(outcome.item.id)

    async def _drain(self, flight: Flight, now: datetime, report: DispatchReport) -> None:
        """At a stop: the sends under way end (the senders take nothing more), their outcomes
        are recorded; ``aclose`` cancels this after its grace."""
        senders = {s for queue in self._queues.values() for s in queue.senders}
        if senders:
            await asyncio.wait(senders)
        while flight.done:
            await self._record(flight.take(), now, report)

    async def _release(self, now: datetime) -> None:
        """Give back every delivery claimed and not recorded (a stop, a cancelled pass)."""
        held = self._unreleased + [
            recovery.Held(i, a, i in self._started) for i, a in self._held.items()
        ]
        if not held:
            return
        self._unreleased = []
        self._held.clear()
        self._started.clear()
        started = [h.id for h in held if h.started]
        try:
            async with self._db.transaction() as session:
                cut_off = (
                    await interruptions.sending(session, where=store.DELIVERY.c.id.in_(started))
                    if started
                    else []
                )
                released = await recovery.release(session, held=held, now=now)
                await interruptions.journal_them(session, cut_off, now=now)
        except Exception:  # the last resort: the next pass tries again (or the lease, at a stop)
            log.exception("could not give back %d claimed deliveries", len(held))
            self._unreleased = held
            return
        log.info("%d claimed deliveries given back at stop", released)

    def _queue(self, batch: list[Job], flight: Flight) -> None:
        """Settle what needs no channel at once; queue the rest and start their senders.

        Staff alerts go to the head of their channel's queue, ahead of the bulletin
        deliveries claimed before them; the claim has already put them first.
        """
        queued: dict[_Queue, list[tuple[str, Job, bool]]] = {}
        for job in batch:
            decision = job.decision
            if decision.lane in (Lane.REFUSED, Lane.INTERNAL) or decision.kind is None:
                flight.add(settle(job))
                continue
            queue = self._queues[decision.lane, decision.kind]
            queued.setdefault(queue, []).append((job.item.address, job, job.item.urgent))
        for queue, jobs in queued.items():
            queue.pacer.put(jobs)
            pacer = queue.pacer
            while len(queue.senders) < min(pacer.in_flight, len(pacer)):
                sender = asyncio.create_task(self._send_queued(queue, flight))
                queue.senders.add(sender)
                sender.add_done_callback(queue.senders.discard)

    async def _send_queued(self, queue: _Queue, flight: Flight) -> None:
        """One sender: the channel's next delivery its pacing releases, until none is left."""
        while (taken := await queue.pacer.take()) is not None:
            key, job = taken
            if self._closing:  # taken while stopping: never tried, given back
                return
            self._started.add(job.item.id)
            rendered = self._renderings[job.item.message_id]
            outcome = await attempt(job, queue.channel, rendered, self._personalise)
            retry_after = outcome.retry_after if outcome.status == DeliveryStatus.RETRYING else None
            queue.pacer.done(key, retry_after=retry_after)
            flight.add(outcome)

    async def _claim(self, now: datetime, *, recover: bool, report: DispatchReport) -> list[Job]:
        lease = timedelta(seconds=self.tuning.lease_seconds)

        async def claim(session: AsyncSession) -> _Claim:
            recovered = 0
            if recover:  # claims of no known instance (or older ones): their lease ran out
                expired = recovery.lease_ran_out(now=now, lease=lease)
                cut_off = await interruptions.sending(session, where=expired)
                recovered = await recovery.recover_expired(session, now=now, lease=lease)
                await interruptions.journal_them(session, cut_off, now=now)
            batch = await store.claim(
                session,
                now=now,
                limit=self.tuning.claim_size,
                lease=lease,
                claimant=self.claimant,
            )
            # The modes are read again with every claim: they decide isolation.
            modes = await store.crisis_modes(
                session, ids=(i.crisis_id for i in batch if i.crisis_id is not None)
            )
            missing = {i.message_id for i in batch} - self._renderings.keys()
            renderings = await store.renderings(session, ids=missing) if missing else {}
            return _Claim(recovered, batch, modes, renderings)

        # SQLite: the web may hold the lock (a publication); retried with a bound, no stall
        recovered, batch, modes, renderings = await write(self._db, claim)
        if recovered:
            log.warning("%d deliveries recovered after their lease expired", recovered)
            self.metrics.lease_recoveries.inc(recovered)
            report.recovered += recovered
        if renderings:
            if len(self._renderings) > 4096:
                self._renderings.clear()
            self._renderings.update(renderings)
        report.claimed += len(batch)
        self._held.update((item.id, item.attempts) for item in batch)
        return [self._decide(item, modes) for item in batch]

    def _decide(self, item: store.Claimed, modes: Mapping[int, str]) -> Job:
        mode = modes.get(item.crisis_id) if item.crisis_id is not None else None
        decision = decide(
            has_crisis=item.crisis_id is not None,
            crisis_mode=mode,
            audience=item.audience,
            channel=item.channel,
            real=self._real_kinds,
            exercise=self._exercise_kinds,
        )
        return Job(item, decision, exercise=mode == "exercise")


def _queues(
    lane: Lane,
    channels: Mapping[ChannelKind, Channel],
    config: ChannelsConfig | None,
    limiters: RateLimiters,
) -> dict[tuple[Lane, ChannelKind], _Queue]:
    """Each channel paced at its provider's declared limits, or generously without them."""
    declared = sections(config) if config is not None else {}
    queues = {}
    for kind, channel in channels.items():
        limits = provider_limits(kind, declared[kind]) if kind in declared else None
        queues[lane, kind] = _Queue(channel, build_pacer(limits, limiters))
    return queues
