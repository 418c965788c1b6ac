"""Outcomes written back: batched as they come, a retry planned, isolation refusals journaled."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime

from crisis import journal
from crisis.actors import SYSTEM
from crisis.dispatch import store
from crisis.dispatch.metrics import DispatchMetrics
from crisis.dispatch.outbox import DeliveryStatus
from crisis.dispatch.retry import RetryPolicy
from crisis.dispatch.sending import Outcome
from crisis.dispatch.transactions import Transactions

__all__ = ["DispatchReport", "Flight", "Recorder"]


@dataclass(slots=True)
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    refused: int = 0  # isolation refusals, counted in failed too
    recovered: int = 0


@dataclass(slots=True)
class Flight:
    """Deliveries claimed and not yet recorded, and the outcomes that came back so far."""

    record_size: int
    count: int = 0  # claimed, not yet recorded
    done: list[Outcome] = field(default_factory=list)
    oldest: float = 0.0  # when the first outcome of the current batch came back
    started: asyncio.Event = field(default_factory=asyncio.Event)  # a batch has begun
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # a batch is full

    def full(self) -> bool:
        return len(self.done) >= min(self.record_size, self.count)

    def add(self, outcome: Outcome) -> None:
        if not self.done:
            self.oldest = time.monotonic()
            self.started.set()
        self.done.append(outcome)
        if self.full():
            self.ready.set()

    def take(self) -> list[Outcome]:
        outcomes = self.done[: self.record_size]
        del self.done[: self.record_size]
        self.count -= len(outcomes)
        if self.done:  # more came in while the last batch was written
            self.oldest = time.monotonic()
        return outcomes


@dataclass(slots=True)
class Recorder:
    db: Transactions
    metrics: DispatchMetrics
    policy: RetryPolicy
    rng: random.Random

    async def record(self, outcomes: list[Outcome], now: datetime, report: DispatchReport) -> None:
        """One transaction: the rows' new states and a journal entry per refused crisis."""
        updates = [self._update(outcome, now) for outcome in outcomes]
        counted: dict[tuple[str, DeliveryStatus], int] = {}
        refused: dict[int | None, list[Outcome]] = {}
        for outcome, update in zip(outcomes, updates, strict=True):
            key = (outcome.item.channel, update.status)
            counted[key] = counted.get(key, 0) + 1
            if outcome.isolation:
                refused.setdefault(outcome.item.crisis_id, []).append(outcome)
        for (channel, status), count in counted.items():
            self.metrics.deliveries.labels(channel, status.value).inc(count)
            setattr(report, status.value, getattr(report, status.value) + count)
        async with self.db.transaction() as session:
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

    def _update(self, outcome: Outcome, now: datetime) -> store.Update:
        """The row's next state: a retry planned within the budget, or given up."""
        item, status, error = outcome.item, outcome.status, outcome.error
        next_at: datetime | None = None
        if status == DeliveryStatus.RETRYING:
            next_at = self.policy.next_attempt(
                attempts=item.attempts,
                created_at=item.created_at,
                now=now,
                retry_after=outcome.retry_after,
                rng=self.rng,
            )
            if next_at is None:
                status = DeliveryStatus.FAILED
                error = f"Abandon après {item.attempts} essai(s) : {error}"
            else:
                error = f"Nouvel essai prévu (essai n° {item.attempts} échoué) : {error}"
        return store.Update(
            id=item.id,
            attempts=item.attempts,
            status=status,
            error=error,
            provider_id=outcome.provider_id,
            sent_at=now if status == DeliveryStatus.SENT else None,
            next_attempt_at=next_at,
        )
