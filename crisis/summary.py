"""The closing summary (bilan): timeline, clocks met or missed, bulletins, delivery figures.

Built from the rows alone, so the page and the downloadable file always agree; the figures
are also journaled with the closure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from crisis import checkpoints, journal
from crisis.cell import crises, overview
from crisis.cell.clocks import ClockState
from crisis.cell.crises import Crisis
from crisis.checkpoints import CheckpointRecord
from crisis.cip import report as cip_report
from crisis.dispatch.outbox import Delivery, OutboxMessage, Purpose
from crisis.errors import Conflict
from crisis.journal import JournalEntry

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
MESSAGES = OutboxMessage.__table__  # type: ignore[attr-defined]


class CrisisStillOpen(Conflict):
    """The final summary waits for the closure (a read refused: nothing to journal)."""

    journaled = False


@dataclass(frozen=True, slots=True)
class BulletinLine:
    bulletin_id: int
    title: str
    published_at: datetime
    deliveries: int
    by_audience: dict[str, dict[str, int]]


@dataclass(frozen=True, slots=True)
class Summary:
    crisis: Crisis
    communes: list[str]
    clocks: list[ClockState]
    timeline: list[JournalEntry]
    bulletins: list[BulletinLine]
    by_status: dict[str, int]
    by_audience: dict[str, dict[str, int]]
    by_purpose: dict[str, int]
    generated_at: datetime
    checkpoint: CheckpointRecord | None = None  # the latest signed checkpoint of its chain
    cip_report: tuple[tuple[str, str], ...] = ()  # (heading, text) lines; none without a CIP


def _audience(crisis: Crisis) -> sa.ColumnElement[str]:
    """The audience a delivery stands for: in an exercise, the one it plays."""
    c = DELIVERIES.c
    audience = c.played_audience if crisis.is_exercise else c.audience
    return sa.func.coalesce(audience, c.audience)


async def _delivery_counts(
    session: AsyncSession, crisis: Crisis
) -> tuple[dict[str, int], dict[str, dict[str, int]], dict[str, int]]:
    c = DELIVERIES.c
    query = (
        sa.select(c.purpose, _audience(crisis), c.status, sa.func.count())
        .where(c.crisis_id == crisis.id)
        .group_by(c.purpose, _audience(crisis), c.status)
    )
    by_status: dict[str, int] = {}
    by_audience: dict[str, dict[str, int]] = {}
    by_purpose: dict[str, int] = {}
    for purpose, aud, status, count in (await (await session.connection()).execute(query)).all():
        by_purpose[purpose] = by_purpose.get(purpose, 0) + count
        if purpose != Purpose.BULLETIN:
            continue
        by_status[status] = by_status.get(status, 0) + count
        slot = by_audience.setdefault(aud, {})
        slot[status] = slot.get(status, 0) + count
    return by_status, by_audience, by_purpose


async def _bulletins(session: AsyncSession, crisis: Crisis) -> list[BulletinLine]:
    m, d = MESSAGES.c, DELIVERIES.c
    figures: dict[int, dict[str, dict[str, int]]] = {}
    for bulletin_id, aud, status, count in (
        await (await session.connection()).execute(
            sa.select(d.bulletin_id, _audience(crisis), d.status, sa.func.count())
            .where(d.crisis_id == crisis.id, d.purpose == Purpose.BULLETIN.value)
            .group_by(d.bulletin_id, _audience(crisis), d.status)
        )
    ).all():
        figures.setdefault(bulletin_id, {}).setdefault(aud, {})[status] = count
    rows = (
        await (await session.connection()).execute(
            sa.select(m.bulletin_id, m.subject, m.text, m.created_at)
            .where(m.crisis_id == crisis.id, m.purpose == Purpose.BULLETIN.value)
            .order_by(m.created_at, m.id)
        )
    ).all()
    lines: dict[int, BulletinLine] = {}
    for bulletin_id, subject, text, created_at in rows:
        if bulletin_id is None or bulletin_id in lines:
            continue
        title = subject or text.split("\n", 1)[0][:160]
        by_audience = figures.get(bulletin_id, {})
        total = sum(n for counts in by_audience.values() for n in counts.values())
        lines[bulletin_id] = BulletinLine(bulletin_id, title, created_at, total, by_audience)
    return list(lines.values())


async def build(session: AsyncSession, *, crisis_id: int, now: datetime) -> Summary:
    crisis = await crises.get(session, crisis_id=crisis_id)
    states = await overview.clock_states(session, crises=[crisis], now=now)
    by_status, by_audience, by_purpose = await _delivery_counts(session, crisis)
    communes = await geography.communes_by_code(session, codes=crisis.communes)
    return Summary(
        crisis=crisis,
        communes=[c.name for c in communes],
        clocks=states.get(crisis_id, []),
        timeline=await journal.for_crisis(session, crisis_id=crisis_id, limit=5000),
        bulletins=await _bulletins(session, crisis),
        by_status=by_status,
        by_audience=by_audience,
        by_purpose=by_purpose,
        generated_at=now,
        checkpoint=await checkpoints.latest(session, chain=journal.crisis_chain(crisis_id)),
        cip_report=await cip_report.lines(session, crisis_id=crisis_id, now=now),
    )


def require_closed(crisis: Crisis) -> None:
    if crisis.is_open:
        raise CrisisStillOpen(
            "crisis_open",
            "La synthèse est établie à la clôture : l'événement est encore en cours.",
            {"status": crisis.status},
        )


async def figures(session: AsyncSession, *, crisis_id: int, now: datetime) -> dict[str, Any]:
    """The summary in numbers, for the closure's journal entry and the API."""
    built = await build(session, crisis_id=crisis_id, now=now)
    return {
        "clocks": [
            {
                "code": s.code,
                "status": s.status.value,
                "started_at": s.clock.started_at.isoformat() if s.clock else None,
                "met_at": s.met_at.isoformat() if s.met_at else None,
            }
            for s in built.clocks
        ],
        "bulletins": len(built.bulletins),
        "deliveries": built.by_status,
        "deliveries_by_audience": built.by_audience,
        "journal_entries": len(built.timeline),
    }
