"""Sends interrupted by a stop or a crash, as the journal and the tracking page state them.

When the deliveries an instance left ``sending`` are put back (it died, stopped with
sends under way, or no known instance held them and their lease ran out), their outcome is
unknown: each is sent again with the same key, and what that guarantees depends on the
channel (``crisis.dispatch.guarantees``). One journal entry per bulletin
(``bulletin.sends_interrupted``) says how many of its sends were interrupted on each channel
and, for each, the at-least-once window: recognised by its key, or possibly received twice.
The tracking page reads these entries back (``for_bulletin``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import SYSTEM
from crisis.dispatch.guarantees import guarantee
from crisis.dispatch.outbox import Delivery
from crisis.dispatch.rows import SENDING

__all__ = ["ACTION", "ChannelWindow", "Interrupted", "for_bulletin", "journal_them", "sending"]

ACTION = "bulletin.sends_interrupted"
DELIVERY = Delivery.metadata.tables[Delivery.__tablename__]
JOURNAL = journal.JournalEntry.metadata.tables[journal.JournalEntry.__tablename__]


@dataclass(frozen=True, slots=True)
class Interrupted:
    """How many of one bulletin's sends on one channel were cut off."""

    bulletin_id: int
    crisis_id: int | None
    channel: str
    count: int


@dataclass(frozen=True, slots=True)
class ChannelWindow:
    """One channel's interrupted sends of a bulletin, and what their resend guarantees."""

    channel: str
    count: int
    guarantee: str


async def sending(session: AsyncSession, *, where: sa.ColumnElement[bool]) -> list[Interrupted]:
    """The bulletins' deliveries still ``sending`` among ``where``, counted per channel: read
    in the recovery's transaction, before it puts them back."""
    columns = DELIVERY.c
    rows = await (await session.connection()).execute(
        sa.select(columns.bulletin_id, columns.crisis_id, columns.channel, sa.func.count())
        .where(
            columns.next_attempt_at.is_not(None),
            sa.text(SENDING),
            columns.bulletin_id.is_not(None),
            where,
        )
        .group_by(columns.bulletin_id, columns.crisis_id, columns.channel)
    )
    return [Interrupted(*row) for row in rows]


async def journal_them(
    session: AsyncSession, interrupted: Sequence[Interrupted], *, now: datetime
) -> int:
    """One journal entry per bulletin; returns how many were written."""
    bulletins: dict[tuple[int, int | None], list[Interrupted]] = {}
    for item in interrupted:
        bulletins.setdefault((item.bulletin_id, item.crisis_id), []).append(item)
    for (bulletin_id, crisis_id), items in sorted(bulletins.items(), key=lambda kv: kv[0][0]):
        channels = [
            {"channel": i.channel, "count": i.count, "guarantee": guarantee(i.channel)}
            for i in sorted(items, key=lambda i: i.channel)
        ]
        await journal.append(
            session,
            actor=SYSTEM,
            action=ACTION,
            now=now,
            crisis_id=crisis_id,
            payload={
                "bulletin_id": bulletin_id,
                "count": sum(i.count for i in items),
                "channels": channels,
            },
        )
    return len(bulletins)


async def for_bulletin(
    session: AsyncSession, *, crisis_id: int, bulletin_id: int
) -> list[ChannelWindow]:
    """Every interruption the journal recorded for this bulletin, summed per channel."""
    entries = await session.execute(
        sa.select(JOURNAL.c.payload).where(
            JOURNAL.c.crisis_id == crisis_id, JOURNAL.c.action == ACTION
        )
    )
    counts: dict[str, int] = {}
    for (payload,) in entries:
        found = json.loads(payload)
        if found.get("bulletin_id") != bulletin_id:
            continue
        for channel in found.get("channels") or []:
            name = str(channel.get("channel", ""))
            counts[name] = counts.get(name, 0) + int(channel.get("count") or 0)
    return [ChannelWindow(c, n, guarantee(c)) for c, n in sorted(counts.items())]
