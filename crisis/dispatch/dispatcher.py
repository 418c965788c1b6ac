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

A delivery left ``sending`` by a crash goes back to ``retrying`` once its lease has expired;
its resend carries the same idempotency key (the e-mail ``Message-ID`` derives from it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.base import Channel, Message, Recipient
from channels.config import ChannelsConfig
from channels.errors import ChannelError, PermanentChannelError, TransientChannelError
from channels.kinds import ChannelKind
from channels.ratelimit import RateLimiters, TokenBucket
from channels.registry import FACTORIES, build_channels
from crisis import journal
from crisis.actors import SYSTEM
from crisis.dispatch import store
from crisis.dispatch.isolation import Decision, Lane, decide
from crisis.dispatch.metrics import DispatchMetrics
from crisis.dispatch.outbox import DeliveryStatus
from crisis.dispatch.pacing import Gate, build_gate
from crisis.dispatch.retry import RetryPolicy

__all__ = ["DispatchReport", "DispatchTuning", "Dispatcher", "Transactions"]

log = logging.getLogger("tocsin.dispatcher")
EXERCISE_MARK = "EXERCICE EXERCICE EXERCICE"


class Transactions(Protocol):
    """What the dispatcher needs of the database (``crisis.app.db.Database`` fits)."""

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...


class DispatchTuning(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    interval_seconds: float = Field(default=0.25, gt=0)
    lease_seconds: float = Field(default=300.0, gt=0)
    # Larger batches than 200/100 cut the database's share of the two cores a fan-out runs
    # on (docs/benchmarks.md, « Diffusion, 2 décembre (2) »). The window stays at 1,000: a
    # claimed delivery may wait in its channel's queue, and 1,000 Matrix messages at 5 a
    # second take 200 s, within the 300 s lease (2,000 would not, for no measurable gain).
    claim_size: int = Field(default=500, ge=1)
    window: int = Field(default=1000, ge=1)  # deliveries claimed and not yet recorded
    record_size: int = Field(default=250, ge=1)
    flush_seconds: float = Field(default=0.25, gt=0)
    retry: RetryPolicy = RetryPolicy()


@dataclass(slots=True)
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    refused: int = 0  # isolation refusals, counted in failed too
    recovered: int = 0


@dataclass(frozen=True, slots=True)
class _Outcome:
    item: store.Claimed
    status: DeliveryStatus
    error: str | None = None
    provider_id: str | None = None
    retry_after: float | None = None
    isolation: bool = False


@dataclass(frozen=True, slots=True)
class _Job:
    item: store.Claimed
    decision: Decision
    exercise: bool  # the crisis' mode, read in the claim's transaction


@dataclass(slots=True)
class _Flight:
    """Deliveries claimed and not yet recorded, and the outcomes that came back so far."""

    record_size: int
    count: int = 0  # claimed, not yet recorded
    done: list[_Outcome] = field(default_factory=list)
    oldest: float = 0.0  # when the first outcome of the current batch came back
    started: asyncio.Event = field(default_factory=asyncio.Event)  # a batch has begun
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # a batch is full

    def full(self) -> bool:
        return len(self.done) >= min(self.record_size, self.count)

    def add(self, outcome: _Outcome) -> None:
        if not self.done:
            self.oldest = time.monotonic()
            self.started.set()
        self.done.append(outcome)
        if self.full():
            self.ready.set()

    def take(self) -> list[_Outcome]:
        outcomes = self.done[: self.record_size]
        del self.done[: self.record_size]
        self.count -= len(outcomes)
        if self.done:  # more came in while the last batch was written
            self.oldest = time.monotonic()
        return outcomes


@dataclass(slots=True, eq=False)  # hashed by identity
class _Queue:
    """One channel's claimed deliveries waiting for a sender, and its senders."""

    channel: Channel
    gate: Gate
    jobs: deque[_Job] = field(default_factory=deque)
    senders: set[asyncio.Task[None]] = field(default_factory=set)


@dataclass(slots=True)
class _Lane:
    channels: Mapping[ChannelKind, Channel]
    gates: dict[ChannelKind, Gate] = field(default_factory=dict)


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
        self._rng = rng or random.Random()
        limiters = limiters or RateLimiters()
        self._lanes = {
            Lane.REAL: _lane(real, real_config, limiters),
            Lane.EXERCISE: _lane(exercise, exercise_config, limiters),
        }
        self._real_kinds = frozenset(real)
        self._exercise_kinds = frozenset(exercise)
        self._renderings: dict[int, store.Rendered] = {}
        self._pass = asyncio.Lock()
        self._worker: asyncio.Task[None] | None = None
        self._wanted = False
        self._latest: datetime | None = None
        self._closing = False

    @classmethod
    def from_config(
        cls,
        *,
        db: Transactions,
        channels: ChannelsConfig,
        exercise_channels: ChannelsConfig,
        **options: object,
    ) -> Dispatcher:
        """Adapters built from configuration; the exercise set is built on its own."""
        real = build_channels(channels)
        exercise = build_channels(exercise_channels)
        for kind, section in _sections(exercise_channels).items():
            if kind in exercise and not section.sandbox:
                log.warning("exercise channel %s is not marked as a sandbox", kind.value)
        return cls(
            db=db,
            real=real,
            exercise=exercise,
            real_config=channels,
            exercise_config=exercise_channels,
            **options,  # type: ignore[arg-type]
        )

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

    async def aclose(self, *, timeout: float = 5.0) -> None:
        """Stop claiming, let the sends in flight finish (up to ``timeout``), close channels."""
        self._closing = True
        if self._worker is not None and not self._worker.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), timeout)
            except TimeoutError:
                self._worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker
        for lane in self._lanes.values():
            for channel in lane.channels.values():
                await channel.aclose()

    # --- one pass -------------------------------------------------------------------------

    async def run(self, now: datetime) -> DispatchReport:
        """Send everything due at ``now``; returns when every claimed delivery is recorded."""
        async with self._pass:
            return await self._run(now)

    async def _run(self, now: datetime) -> DispatchReport:
        """Keep up to ``window`` deliveries claimed and sending; record outcomes in batches.

        Claimed deliveries wait in their channel's queue; each channel has as many sender
        coroutines as it may have sends in flight, each taking the next delivery when its
        previous send is over. A batch is written when ``record_size`` outcomes are in, when
        every delivery in flight has one, or ``flush_seconds`` after its first outcome. The
        loop wakes once per batch, not once per outcome; the senders go on meanwhile, and the
        next claim is made as soon as a batch is recorded, so the channels never wait for the
        database.
        """
        tuning = self.tuning
        report = DispatchReport()
        flight = _Flight(record_size=tuning.record_size)
        queues: dict[tuple[Lane, ChannelKind], _Queue] = {}
        exhausted = False
        first = True
        try:
            while True:
                while (
                    not exhausted
                    and not self._closing
                    and flight.count <= tuning.window - min(tuning.claim_size, tuning.window)
                ):
                    batch = await self._claim(self._now(now), recover=first, report=report)
                    first = False
                    exhausted = len(batch) < tuning.claim_size
                    flight.count += len(batch)
                    self._queue(batch, queues, flight)
                if flight.count == 0:
                    break
                if not flight.done:
                    flight.started.clear()
                    await flight.started.wait()
                if not flight.full():
                    flight.ready.clear()
                    left = tuning.flush_seconds - (time.monotonic() - flight.oldest)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(flight.ready.wait(), max(left, 0.001))
                outcomes = flight.take()
                await self._record(outcomes, self._now(now), report)
        finally:  # cancelled: the rows left ``sending`` come back when their lease expires
            for queue in queues.values():
                for sender in queue.senders:
                    sender.cancel()
        await self._measure(self._now(now))
        return report

    def _queue(
        self, batch: list[_Job], queues: dict[tuple[Lane, ChannelKind], _Queue], flight: _Flight
    ) -> None:
        """Settle what needs no channel at once; queue the rest and start their senders.

        Staff alerts go to the head of their channel's queue, ahead of the bulletin
        deliveries claimed before them; the claim has already put them first.
        """
        urgent: dict[_Queue, list[_Job]] = {}
        for job in batch:
            decision = job.decision
            if decision.lane in (Lane.REFUSED, Lane.INTERNAL) or decision.kind is None:
                flight.add(self._settle(job))
                continue
            key = (decision.lane, decision.kind)
            queue = queues.get(key)
            if queue is None:
                lane = self._lanes[decision.lane]
                queue = queues[key] = _Queue(
                    channel=lane.channels[decision.kind], gate=lane.gates[decision.kind]
                )
            if job.item.urgent:
                urgent.setdefault(queue, []).append(job)
            else:
                queue.jobs.append(job)
        for queue, jobs in urgent.items():
            queue.jobs.extendleft(reversed(jobs))
        for queue in queues.values():
            while queue.jobs and len(queue.senders) < min(queue.gate.in_flight, len(queue.jobs)):
                sender = asyncio.create_task(self._send_queued(queue, flight))
                queue.senders.add(sender)
                sender.add_done_callback(queue.senders.discard)

    async def _send_queued(self, queue: _Queue, flight: _Flight) -> None:
        """One sender: the channel's next delivery, until its queue is empty."""
        jobs = queue.jobs
        while jobs:
            job = jobs.popleft()
            flight.add(await self._attempt(job, queue.channel, queue.gate))

    async def _claim(self, now: datetime, *, recover: bool, report: DispatchReport) -> list[_Job]:
        lease = timedelta(seconds=self.tuning.lease_seconds)
        async with self._db.transaction() as session:
            if recover:
                recovered = await store.recover_expired(session, now=now, lease=lease)
                if recovered:
                    log.warning("%d deliveries recovered after their lease expired", recovered)
                    self.metrics.lease_recoveries.inc(recovered)
                    report.recovered += recovered
            batch = await store.claim(session, now=now, limit=self.tuning.claim_size, lease=lease)
            # The modes are read again with every claim: they decide isolation.
            modes = await store.crisis_modes(
                session, ids=(i.crisis_id for i in batch if i.crisis_id is not None)
            )
            missing = {i.message_id for i in batch} - self._renderings.keys()
            if missing:
                if len(self._renderings) > 4096:
                    self._renderings.clear()
                self._renderings.update(await store.renderings(session, ids=missing))
        report.claimed += len(batch)
        jobs = []
        for item in batch:
            mode = modes.get(item.crisis_id) if item.crisis_id is not None else None
            decision = decide(
                has_crisis=item.crisis_id is not None,
                crisis_mode=mode,
                audience=item.audience,
                channel=item.channel,
                real=self._real_kinds,
                exercise=self._exercise_kinds,
            )
            jobs.append(_Job(item, decision, exercise=mode == "exercise"))
        return jobs

    def _settle(self, job: _Job) -> _Outcome:
        """The outcome of a delivery no channel carries: refused, or published by Tocsin."""
        item, decision = job.item, job.decision
        if decision.lane == Lane.INTERNAL:
            return _Outcome(item, DeliveryStatus.SENT, provider_id="public_page")
        if decision.isolation:
            log.warning(
                "isolation refusal: delivery %d of crisis %s (%s, %s)",
                item.id,
                item.crisis_id,
                item.audience,
                item.channel,
            )
        reason = decision.reason or "Envoi refusé : aucun canal ne peut porter ce message."
        return _Outcome(item, DeliveryStatus.FAILED, reason, isolation=decision.isolation)

    async def _attempt(self, job: _Job, channel: Channel, gate: Gate) -> _Outcome:
        item, decision = job.item, job.decision
        assert decision.kind is not None
        try:
            recipient = Recipient(
                kind=decision.kind, address=item.address, display_name=item.recipient_name
            )
            message = self._message(job)
            await gate.token()
            receipt = await channel.send(message, recipient)
        except TransientChannelError as error:
            if error.retry_after:
                gate.pause(error.retry_after)
            return _Outcome(
                item, DeliveryStatus.RETRYING, error.message, retry_after=error.retry_after
            )
        except PermanentChannelError as error:
            return _Outcome(item, DeliveryStatus.FAILED, error.message)
        except ChannelError as error:
            return _Outcome(item, DeliveryStatus.RETRYING, error.message)
        except Exception as error:  # the last resort: an adapter bug must not lose the row
            log.exception("channel %s raised an unmapped error", decision.kind.value)
            reason = f"Erreur inattendue du canal ({type(error).__name__})."
            return _Outcome(item, DeliveryStatus.RETRYING, reason)
        refusal = receipt.refused.get(recipient.address)
        if refusal is not None:
            status = DeliveryStatus.RETRYING if refusal.startswith("4") else DeliveryStatus.FAILED
            return _Outcome(item, status, f"Destinataire refusé par le fournisseur : {refusal}")
        return _Outcome(item, DeliveryStatus.SENT, provider_id=receipt.provider_id)

    def _message(self, job: _Job) -> Message:
        rendered = self._renderings[job.item.message_id]
        text, subject = rendered.text, rendered.subject
        html, thread = rendered.html, rendered.thread
        if self._personalise is not None:
            text = self._personalise(text, job.item.id)
            html = self._personalise(html, job.item.id) if html else html
        if job.exercise:  # whatever the renderer did, an exercise says so first
            if not text.lstrip().startswith(EXERCISE_MARK):
                text = f"{EXERCISE_MARK}\n\n{text}"
            if subject and "EXERCICE" not in subject:
                subject = f"EXERCICE — {subject}"
            thread = tuple(
                part if part.startswith(EXERCISE_MARK) else f"{EXERCISE_MARK}\n{part}"
                for part in thread
            )
        return Message(
            text=text,
            subject=subject,
            html=html,
            idempotency_key=job.item.idempotency_key,
            audience=job.item.audience,
            exercise=job.exercise,
            links=(rendered.link,) if rendered.link else (),
            thread=thread,
        )

    async def _record(
        self, outcomes: list[_Outcome], now: datetime, report: DispatchReport
    ) -> None:
        policy = self.tuning.retry
        updates: list[store.Update] = []
        refused: dict[int | None, list[_Outcome]] = {}
        counted: dict[tuple[str, DeliveryStatus], int] = {}
        for outcome in outcomes:
            item, status, error = outcome.item, outcome.status, outcome.error
            next_at: datetime | None = None
            if status == DeliveryStatus.RETRYING:
                next_at = policy.next_attempt(
                    attempts=item.attempts,
                    created_at=item.created_at,
                    now=now,
                    retry_after=outcome.retry_after,
                    rng=self._rng,
                )
                if next_at is None:
                    status = DeliveryStatus.FAILED
                    error = f"Abandon après {item.attempts} essai(s) : {error}"
                else:
                    error = f"Nouvel essai prévu (essai n° {item.attempts} échoué) : {error}"
            updates.append(
                store.Update(
                    id=item.id,
                    attempts=item.attempts,
                    status=status,
                    error=error,
                    provider_id=outcome.provider_id,
                    sent_at=now if status == DeliveryStatus.SENT else None,
                    next_attempt_at=next_at,
                )
            )
            if outcome.isolation:
                refused.setdefault(item.crisis_id, []).append(outcome)
            counted[item.channel, status] = counted.get((item.channel, status), 0) + 1
        for (channel, status), count in counted.items():
            self.metrics.deliveries.labels(channel, status.value).inc(count)
            setattr(report, status.value, getattr(report, status.value) + count)
        async with self._db.transaction() as session:
            await store.record(session, updates=updates)
            for crisis_id, group in refused.items():
                await journal.append(
                    session,
                    actor=SYSTEM,
                    action="delivery.isolation_refused",
                    now=now,
                    crisis_id=crisis_id,
                    payload={
                        "count": len(group),
                        "deliveries": [o.item.id for o in group[:100]],
                        "reasons": sorted({o.error or "" for o in group}),
                    },
                )
        for group in refused.values():
            self.metrics.isolation_refusals.inc(len(group))
            report.refused += len(group)

    async def _measure(self, now: datetime) -> None:
        async with self._db.transaction() as session:
            self.metrics.due.set(await store.count_due(session, now=now))


def _sections(config: ChannelsConfig) -> dict[ChannelKind, Any]:
    return {
        kind: getattr(config, name)
        for kind, (name, _) in FACTORIES.items()
        if getattr(config, name) is not None
    }


def _lane(
    channels: Mapping[ChannelKind, Channel],
    config: ChannelsConfig | None,
    limiters: RateLimiters,
) -> _Lane:
    """Gates from configuration, or generous ones for adapters handed in without it."""
    lane = _Lane(channels)
    sections = _sections(config) if config is not None else {}
    for kind in channels:
        if kind in sections and config is not None:
            lane.gates[kind] = build_gate(kind, config, limiters)
        else:
            bucket = TokenBucket(rate=10_000.0, capacity=10_000.0, clock=limiters.clock)
            lane.gates[kind] = Gate(bucket=bucket, in_flight=64, limiters=limiters)
    return lane
