"""The bulletins a reviewer may validate now: the queue on their dashboard."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from crisis.bulletin.record import Bulletin
from crisis.bulletin.workflow import REVIEWERS, permissions
from crisis.cell.crises import Crisis
from crisis.vocabulary import BulletinStatus, CrisisStatus


async def awaiting(session: AsyncSession, *, actor: Actor, limit: int = 50) -> list[Bulletin]:
    """Submitted bulletins of open crises that `actor` may approve (oldest first): none for
    who holds no reviewing role, never one they wrote or edited (four eyes)."""
    if not actor.roles & REVIEWERS:
        return []
    query = (
        select(Bulletin)
        .join(Crisis, col(Crisis.id) == col(Bulletin.crisis_id))
        .where(Bulletin.status == BulletinStatus.SUBMITTED, Crisis.status != CrisisStatus.CLOSED)
        .order_by(col(Bulletin.submitted_at), col(Bulletin.id))
        .limit(limit)
    )
    return [b for b in (await session.exec(query)).all() if permissions(actor, b).review]
