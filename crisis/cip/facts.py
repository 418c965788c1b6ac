"""The validated facts an operator answers from: the crisis' published bulletins, newest
first, and which of them a newer bulletin updates or cancels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.bulletin import record as bulletins
from crisis.vocabulary import BulletinStatus, MsgType


@dataclass(frozen=True, slots=True)
class Fact:
    bulletin_id: int
    title: str
    body: str
    published_at: datetime
    msg_type: str
    references: tuple[int, ...]
    superseded_by: int | None
    """The newer published bulletin that updates or cancels this one."""
    cancelled: bool


async def published(session: AsyncSession, *, crisis_id: int) -> list[Fact]:
    rows = [
        b
        for b in await bulletins.listing(session, crisis_id=crisis_id)
        if b.status == BulletinStatus.PUBLISHED and b.published_at is not None and b.id
    ]
    rows.sort(key=lambda b: b.published_at or b.created_at, reverse=True)
    superseded: dict[int, tuple[int, bool]] = {}
    for newer in reversed(rows):  # oldest first: the newest reference wins
        for ref in newer.reference_ids:
            assert newer.id is not None
            superseded[ref] = (newer.id, newer.msg_type == MsgType.CANCEL)
    facts = []
    for b in rows:
        assert b.id is not None and b.published_at is not None
        by, cancelled = superseded.get(b.id, (None, False))
        facts.append(
            Fact(
                bulletin_id=b.id,
                title=b.title,
                body=b.body,
                published_at=b.published_at,
                msg_type=b.msg_type,
                references=tuple(b.reference_ids),
                superseded_by=by,
                cancelled=cancelled,
            )
        )
    return facts
