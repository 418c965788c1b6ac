"""What the leader's clock tick does: record met clocks, escalate pages, send due alerts.

Each function runs in the caller's transaction; the wiring (`crisis.app.ticks`) opens one
per step and per batch, so a long catch-up never holds one huge transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.roster import REQUIRED_ROLES
from crisis import journal
from crisis.actors import SYSTEM
from crisis.cell import clocks, coverage, crises, lifecycle, paging
from crisis.cell.clocks import Clock, ClockCode, MetCheck
from crisis.cell.crises import Crisis
from crisis.cell.lifecycle import LifecycleRules
from crisis.cell.paging import CellAcknowledgement, CellPage
from crisis.dispatch.outbox import Delivery, Purpose
from crisis.vocabulary import CrisisStatus

CRISES = Crisis.__table__  # type: ignore[attr-defined]
PAGES = CellPage.__table__  # type: ignore[attr-defined]
ACKS = CellAcknowledgement.__table__  # type: ignore[attr-defined]


async def es48_met(session: AsyncSession, clock: Clock) -> datetime | None:
    """ES48 is met when the three audiences are covered since the COD's activation."""
    crisis = await crises.get(session, crisis_id=clock.crisis_id)
    await coverage.keep(
        session, crisis_id=clock.crisis_id, since=clock.started_at, exercise=crisis.is_exercise
    )
    found = await coverage.es48(
        session,
        crisis_id=clock.crisis_id,
        since=clock.started_at,
        exercise=crisis.is_exercise,
        missing_shown=0,
    )
    return found.met_at


MET_CHECKS: Mapping[ClockCode, MetCheck] = {ClockCode.ES48: es48_met}
"""Clocks met by a condition on data rather than by a transition (ES50 adds its own)."""


async def record_met(
    session: AsyncSession, *, now: datetime, checks: Mapping[ClockCode, MetCheck] = MET_CHECKS
) -> int:
    """Stop every running clock whose condition now holds; journaled."""
    count = 0
    for code, check in checks.items():
        waiting = await clocks.running(session, code=code)
        if code == ClockCode.ES48:
            waiting = await _with_bulletins(session, waiting)
        open_crises = await _open_crises(session, [c.crisis_id for c in waiting])
        for clock in waiting:
            if clock.crisis_id not in open_crises:
                continue
            met_at = await check(session, clock)
            if met_at is None or not await clocks.meet(session, clock=clock, met_at=met_at):
                continue
            await journal.append(
                session,
                actor=SYSTEM,
                action="clock.met",
                now=now,
                crisis_id=clock.crisis_id,
                payload={
                    "clock": clock.code,
                    "met_at": met_at.isoformat(),
                    "on_time": met_at <= clock.deadline,
                },
            )
            count += 1
    return count


async def _with_bulletins(session: AsyncSession, waiting: list[Clock]) -> list[Clock]:
    """The ES48 clocks whose crisis has published anything at all: only those can be met
    (one query, so that a thousand crises waiting for their first bulletin cost nothing)."""
    if not waiting:
        return []
    ids = [c.crisis_id for c in waiting]
    d = Delivery.__table__.c  # type: ignore[attr-defined]
    query = (
        sa.select(d.crisis_id)
        .where(d.crisis_id.in_(ids), d.purpose == Purpose.BULLETIN.value)
        .distinct()
    )
    published = set((await (await session.connection()).execute(query)).scalars())
    return [c for c in waiting if c.crisis_id in published]


async def _open_crises(session: AsyncSession, ids: list[int]) -> set[int]:
    """Of these crises, those not closed, loaded in one query (later gets hit the session)."""
    if not ids:
        return set()
    query = select(Crisis).where(col(Crisis.id).in_(ids), Crisis.status != CrisisStatus.CLOSED)
    return {c.id for c in (await session.exec(query)).all() if c.id is not None}


async def _escalation_candidates(
    session: AsyncSession, *, now: datetime, after: timedelta
) -> set[int]:
    """Cells being staffed where some duty role may need its next level (two queries).

    The rule of `paging.escalation_due` over every such crisis at once, so that a thousand
    cells waiting for an answer cost two queries, not two per cell; `lifecycle.escalate`
    checks each candidate again.
    """
    crisis, page, ack = CRISES.c, PAGES.c, ACKS.c
    ordered = sa.select(crisis.id).where(crisis.status == CrisisStatus.CELL_ORDERED.value)
    conn = await session.connection()
    pages = await conn.execute(
        sa.select(page.crisis_id, page.duty_role, page.level, page.paged_at)
        .where(page.crisis_id.in_(ordered), page.duty_role.in_(REQUIRED_ROLES))
        .order_by(page.paged_at, page.id)
    )
    last: dict[tuple[int, str], tuple[int, datetime]] = {}
    for crisis_id, role, level, paged_at in pages.tuples():
        key = (crisis_id, role)
        if key not in last or level >= last[key][0]:
            last[key] = (level, paged_at)
    acked = set(
        (
            await conn.execute(
                sa.select(ack.crisis_id, ack.duty_role).where(ack.crisis_id.in_(ordered))
            )
        ).tuples()
    )
    return {
        crisis_id
        for (crisis_id, role), (level, paged_at) in last.items()
        if (crisis_id, role) not in acked and level < paging.MAX_LEVEL and now >= paged_at + after
    }


async def escalate_pages(session: AsyncSession, *, rules: LifecycleRules, now: datetime) -> int:
    """Page the next level where nobody answered in time, for every cell being staffed."""
    candidates = await _escalation_candidates(session, now=now, after=rules.page_escalation)
    if not candidates:
        return 0
    query = select(Crisis).where(
        col(Crisis.status) == CrisisStatus.CELL_ORDERED, col(Crisis.id).in_(sorted(candidates))
    )
    paged = 0
    for crisis in (await session.exec(query)).all():
        paged += await lifecycle.escalate(session, crisis=crisis, rules=rules, now=now)
    return paged
