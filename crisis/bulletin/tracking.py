"""Where a bulletin's deliveries stand: counts per status, audience and channel; lists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import privacy
from crisis.dispatch import tallies
from crisis.dispatch.outbox import Delivery, DeliveryStatus, Purpose

STATUSES = tuple(s.value for s in DeliveryStatus)


@dataclass
class Counts:
    counts: dict[str, int] = field(default_factory=dict)
    by_audience: dict[str, dict[str, int]] = field(default_factory=dict)
    by_played_audience: dict[str, dict[str, int]] = field(default_factory=dict)
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)
    confirmed_by: dict[str, int] = field(default_factory=dict)
    total: int = 0


def _filters(
    bulletin_id: int, status: str | None, audience: str | None
) -> list[sa.ColumnElement[bool]]:
    where = [
        col(Delivery.bulletin_id) == bulletin_id,
        col(Delivery.purpose) == Purpose.BULLETIN.value,
    ]
    if status:
        where.append(col(Delivery.status) == status)
    if audience:
        where.append(col(Delivery.audience) == audience)
    return where


async def counts(
    session: AsyncSession,
    *,
    bulletin_id: int,
    status: str | None = None,
    audience: str | None = None,
) -> Counts:
    """The bulletin's figures, from the counters kept as deliveries change (`tallies`): a few
    dozen rows read, whatever the number of deliveries."""
    query = tallies.figures(bulletin_id, status=status, audience=audience)
    result = Counts()
    for st, aud, played, channel, method, n in (
        await (await session.connection()).execute(query)
    ).all():
        n = int(n)
        result.total += n
        result.counts[st] = result.counts.get(st, 0) + n
        per = result.by_audience.setdefault(aud, {})
        per[st] = per.get(st, 0) + n
        if played:
            per = result.by_played_audience.setdefault(played, {})
            per[st] = per.get(st, 0) + n
        per = result.by_channel.setdefault(channel, {})
        per[st] = per.get(st, 0) + n
        if st == DeliveryStatus.CONFIRMED and method:
            result.confirmed_by[method] = result.confirmed_by.get(method, 0) + n
    return result


async def items(
    session: AsyncSession,
    *,
    bulletin_id: int,
    status: str | None = None,
    audience: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Delivery]:
    query = (
        select(Delivery)
        .where(*_filters(bulletin_id, status, audience))
        .order_by(col(Delivery.id))
        .limit(limit)
        .offset(offset)
    )
    return list((await session.exec(query)).all())


async def stream(session: AsyncSession, *, bulletin_id: int) -> AsyncIterator[Delivery]:
    query = select(Delivery).where(*_filters(bulletin_id, None, None)).order_by(col(Delivery.id))
    result = await session.stream(query.execution_options(yield_per=1000))
    async for row in result.scalars():
        yield row


def delivery_view(delivery: Delivery, *, personal: bool) -> dict[str, Any]:
    """One delivery as the API, the pages and the CSV show it; `personal` from
    `crisis.privacy.sees_personal_data`: without it, no name and a masked address."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    view = {
        "id": delivery.id,
        "bulletin_id": delivery.bulletin_id,
        "crisis_id": delivery.crisis_id,
        "audience": delivery.audience,
        "played_audience": delivery.played_audience,
        "contact_id": delivery.contact_id,
        "recipient_name": delivery.recipient_name,
        "channel": delivery.channel,
        "address": delivery.address,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "last_error": delivery.last_error,
        "sent_at": iso(delivery.sent_at),
        "confirmed_at": iso(delivery.confirmed_at),
        "confirm_method": delivery.confirm_method,
        "confirmed_by": delivery.confirmed_by,
        "cascade_group": delivery.cascade_group,
        "cascade_rank": delivery.cascade_rank,
        "created_at": iso(delivery.created_at),
    }
    return privacy.delivery(view, personal=personal)


CSV_COLUMNS = (
    "id",
    "audience",
    "played_audience",
    "recipient_name",
    "channel",
    "address",
    "status",
    "attempts",
    "last_error",
    "sent_at",
    "confirmed_at",
    "confirm_method",
    "confirmed_by",
    "cascade_rank",
    "created_at",
)
