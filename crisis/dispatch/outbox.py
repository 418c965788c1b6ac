"""The outbox: every message that leaves Tocsin is first a row, written with the action.

A publication, a clock alert or a page writes `OutboxMessage` rows (one rendering per channel)
and `Delivery` rows (one per recipient and channel) in the caller's transaction. The dispatcher
is the only reader that sends; it claims due rows, calls the channel, and records the outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.dispatch.inserts import insert_deliveries, insert_messages
from crisis.dispatch.rows import (
    CLAIMABLE,
    DELIVERED_STATUSES,
    DUE_STATUSES,
    SCHEDULED,
    SENDING,
    UNSETTLED,
    UNSETTLED_STATUSES,
    URGENT,
    Delivery,
    DeliveryStatus,
    OutboxMessage,
    Purpose,
)
from storage.rawsql import collector_paused

__all__ = [
    "CLAIMABLE",
    "DELIVERED_STATUSES",
    "DUE_STATUSES",
    "SCHEDULED",
    "SENDING",
    "UNSETTLED",
    "UNSETTLED_STATUSES",
    "URGENT",
    "Delivery",
    "DeliveryRequest",
    "DeliveryStatus",
    "Enqueued",
    "OutboxMessage",
    "Outgoing",
    "Purpose",
    "Rendering",
    "enqueue",
    "enqueue_many",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendering:
    """The text of one message for one channel."""

    channel: str
    text: str
    subject: str = ""
    html: str | None = None
    link: str | None = None
    thread: tuple[str, ...] = ()
    cap: str | None = None  # a public bulletin's CAP alert (XML), for the webhook


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRequest:
    """Who gets which rendering. `delay` holds a cascade's later channels back."""

    channel: str
    address: str
    audience: str
    played_audience: str | None = None
    recipient_name: str = ""
    contact_id: int | None = None
    cascade_group: str | None = None
    cascade_rank: int = 0
    delay: timedelta = timedelta(0)
    status: DeliveryStatus = DeliveryStatus.PENDING


def _first_attempt(request: DeliveryRequest, now: datetime) -> datetime | None:
    """When the dispatcher first tries; none for a row written settled (sent, to call)."""
    return now + request.delay if request.status in DUE_STATUSES else None


@dataclass(frozen=True, slots=True)
class Enqueued:
    messages: dict[str, int]
    deliveries: int


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message of `enqueue_many`: its renderings and who gets them."""

    renderings: Sequence[Rendering]
    requests: Sequence[DeliveryRequest]
    exercise: bool
    crisis_id: int | None = None
    bulletin_id: int | None = None


async def enqueue(
    session: AsyncSession,
    *,
    purpose: Purpose,
    renderings: Sequence[Rendering],
    requests: Sequence[DeliveryRequest],
    now: datetime,
    exercise: bool,
    crisis_id: int | None = None,
    bulletin_id: int | None = None,
) -> Enqueued:
    """Write the messages and their deliveries in the caller's transaction (batched inserts)."""
    item = Outgoing(renderings, requests, exercise, crisis_id, bulletin_id)
    [messages], deliveries = await _write(session, purpose=purpose, batch=[item], now=now)
    return Enqueued(messages, deliveries)


async def enqueue_many(
    session: AsyncSession, *, purpose: Purpose, batch: Sequence[Outgoing], now: datetime
) -> int:
    """`enqueue` for many messages at once (clock alerts in bursts).

    Each item's renderings are one message per channel, shared by all its recipients.
    """
    _, deliveries = await _write(session, purpose=purpose, batch=batch, now=now)
    return deliveries


async def _write(
    session: AsyncSession, *, purpose: Purpose, batch: Sequence[Outgoing], now: datetime
) -> tuple[list[dict[str, int]], int]:
    """Each item's message ids by channel, and the number of deliveries written."""
    with collector_paused():  # thousands of acyclic dicts, built synchronously
        message_rows = [
            _message_row(item, rendering, purpose=purpose, now=now)
            for item in batch
            for rendering in item.renderings
        ]
    if not message_rows:
        return [{} for _ in batch], 0
    await session.flush()  # the caller's pending rows first, as the foreign keys want them
    ids = iter(await insert_messages(session, message_rows))
    messages = [{r.channel: next(ids) for r in item.renderings} for item in batch]
    with collector_paused():
        rows = list(_delivery_rows(batch, messages, purpose=purpose, now=now))
    if rows:
        await insert_deliveries(session, rows, purpose=purpose.value, now=now)
    return messages, len(rows)


def _message_row(
    item: Outgoing, rendering: Rendering, *, purpose: Purpose, now: datetime
) -> dict[str, object]:
    return {
        "crisis_id": item.crisis_id,
        "bulletin_id": item.bulletin_id,
        "purpose": purpose.value,
        "channel": rendering.channel,
        "subject": rendering.subject,
        "text": rendering.text,
        "html": rendering.html,
        "link": rendering.link,
        "exercise": item.exercise,
        "thread": list(rendering.thread) or None,
        "cap": rendering.cap,
        "created_at": now,
    }


def _delivery_rows(
    batch: Sequence[Outgoing], messages: list[dict[str, int]], *, purpose: Purpose, now: datetime
) -> Iterator[dict[str, object]]:
    for item, by_channel in zip(batch, messages, strict=True):
        for request in item.requests:
            if request.channel not in by_channel:
                raise ValueError(f"no rendering for channel {request.channel}")
            yield {
                "message_id": by_channel[request.channel],
                "crisis_id": item.crisis_id,
                "bulletin_id": item.bulletin_id,
                "purpose": purpose.value,
                "audience": request.audience,
                "played_audience": request.played_audience,
                "contact_id": request.contact_id,
                "recipient_name": request.recipient_name,
                "channel": request.channel,
                "address": request.address,
                "status": request.status.value,
                "attempts": 0,
                "next_attempt_at": _first_attempt(request, now),
                "idempotency_key": uuid.uuid4().hex,
                "cascade_group": request.cascade_group,
                "cascade_rank": request.cascade_rank,
                "created_at": now,
            }
