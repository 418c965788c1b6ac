"""Each kind's trend across its finished runs (ended or stopped), for the programme page.

- crisis exercises: ES47 and ES48, minutes from the clock's start to met, and whether late;
- on-call tests: the answer rate and the median (p50) answer time;
- reachability tests: the stale contacts found (officials whose every channel failed or who
  never answered « OK » before the run ended).

Figures come from grouped SQL over the clock, page and delivery tables, never the deliveries
loaded row by row: one query per kind, plus one per reachability run (a count).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from crisis.cell.clocks import Clock, ClockCode
from crisis.cell.paging import CellAcknowledgement, CellPage
from crisis.dispatch.rows import Delivery, DeliveryStatus
from exercises.programme import KIND_LABELS, READERS, Drill, DrillKind, DrillRun, RunStatus

__all__ = ["FINISHED", "SHOWN_RUNS", "Point", "Trend", "all_kinds"]

FINISHED = (RunStatus.ENDED, RunStatus.STOPPED)
SHOWN_RUNS = 12
CRISIS_CLOCKS = (ClockCode.ES47, ClockCode.ES48)
PAGES = CellPage.__table__  # type: ignore[attr-defined]
ACKS = CellAcknowledgement.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Point:
    """One finished run: its figures by series (None: not reached, or nothing to count)."""

    run_id: int
    drill_id: int
    title: str
    launched_at: datetime
    values: dict[str, float | None]
    notes: dict[str, str] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "drill_id": self.drill_id,
            "title": self.title,
            "launched_at": self.launched_at.isoformat(),
            "values": self.values,
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class Trend:
    kind: str
    series: tuple[tuple[str, str], ...]  # (key, French label with its unit)
    points: list[Point]

    def view(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": KIND_LABELS.get(self.kind, self.kind),
            "series": [{"key": k, "label": label} for k, label in self.series],
            "points": [p.view() for p in self.points],
        }


async def _finished(session: AsyncSession, kind: DrillKind) -> list[tuple[DrillRun, str]]:
    """The kind's latest finished runs (at most `SHOWN_RUNS`), oldest first, with titles."""
    query = (
        select(DrillRun, Drill.title)
        .join(Drill, col(Drill.id) == DrillRun.drill_id)
        .where(
            Drill.kind == kind,
            col(DrillRun.status).in_(FINISHED),
            col(DrillRun.launched_at).is_not(None),
        )
        .order_by(col(DrillRun.launched_at).desc(), col(DrillRun.id).desc())
        .limit(SHOWN_RUNS)
    )
    return list(reversed((await session.exec(query)).all()))


def _point(run: DrillRun, title: str, values: dict[str, float | None], **notes: str) -> Point:
    assert run.id is not None and run.launched_at is not None
    return Point(run.id, run.drill_id, title, run.launched_at, values, notes)


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


async def crisis(session: AsyncSession) -> Trend:
    runs = await _finished(session, DrillKind.CRISIS)
    crisis_ids = [r.crisis_id for r, _ in runs if r.crisis_id is not None]
    clocks: dict[tuple[int, str], Clock] = {}
    if crisis_ids:
        query = select(Clock).where(
            col(Clock.crisis_id).in_(crisis_ids), col(Clock.code).in_(list(CRISIS_CLOCKS))
        )
        clocks = {(c.crisis_id, c.code): c for c in (await session.exec(query)).all()}
    points = []
    for run, title in runs:
        values: dict[str, float | None] = {}
        notes: dict[str, str] = {}
        for code in CRISIS_CLOCKS:
            clock = clocks.get((run.crisis_id or 0, code))
            met = clock.met_at if clock else None
            values[code.value] = _minutes(clock.started_at if clock else None, met)
            if clock is None or met is None:
                notes[code.value] = "non atteint"
            else:
                notes[code.value] = "en retard" if met > clock.deadline else "tenu"
        points.append(_point(run, title, values, **notes))
    series = (("ES47", "ES47 (minutes)"), ("ES48", "ES48 (minutes)"))
    return Trend(DrillKind.CRISIS.value, series, points)


async def on_call(session: AsyncSession) -> Trend:
    runs = await _finished(session, DrillKind.ON_CALL)
    crisis_ids = [r.crisis_id for r, _ in runs if r.crisis_id is not None]
    answered_rows: list[tuple[int, datetime, datetime | None]] = []
    if crisis_ids:
        answered_rows = await _pages_answered(session, crisis_ids)
    points = []
    for run, title in runs:
        mine = [(p, a) for c, p, a in answered_rows if c == run.crisis_id]
        times = [max(0.0, (a - p).total_seconds()) for p, a in mine if a is not None]
        rate = round(100 * len(times) / len(mine), 1) if mine else None
        p50 = round(median(times) / 60, 1) if times else None
        points.append(_point(run, title, {"rate": rate, "p50": p50}, paged=str(len(mine))))
    series = (("rate", "Taux de réponse (%)"), ("p50", "Délai médian de réponse (minutes)"))
    return Trend(DrillKind.ON_CALL.value, series, points)


async def _pages_answered(
    session: AsyncSession, crisis_ids: Sequence[int]
) -> list[tuple[int, datetime, datetime | None]]:
    """(crisis, paged at, first answer for that role or None), one row per page: a grouped
    join of pages and acknowledgements."""
    pages, acks = PAGES.c, ACKS.c
    person = sa.case(
        (pages.contact_id.is_not(None), "contact:" + sa.cast(pages.contact_id, sa.String)),
        else_="user:" + sa.cast(pages.user_id, sa.String),
    )
    query = (
        sa.select(pages.crisis_id, pages.paged_at, sa.func.min(acks.at))
        .select_from(
            PAGES.outerjoin(
                ACKS,
                sa.and_(
                    acks.crisis_id == pages.crisis_id,
                    acks.duty_role == pages.duty_role,
                    acks.person == person,
                ),
            )
        )
        .where(pages.crisis_id.in_(list(crisis_ids)))
        .group_by(pages.id, pages.crisis_id, pages.paged_at)
    )
    conn = await session.connection()
    return [(c, p, a) for c, p, a in (await conn.execute(query)).all()]


async def _answered(session: AsyncSession, run: DrillRun) -> int:
    """The officials who answered « OK » before the run ended (one COUNT DISTINCT)."""
    if not run.reach_messages:
        return 0
    conditions: list[sa.ColumnElement[bool]] = [
        col(Delivery.message_id).in_(sorted(run.reach_messages)),
        col(Delivery.status) == DeliveryStatus.CONFIRMED,
    ]
    if run.ended_at is not None:
        conditions.append(col(Delivery.confirmed_at) <= run.ended_at)
    query = select(sa.func.count(sa.distinct(col(Delivery.contact_id)))).where(*conditions)
    return int((await session.exec(query)).one())


async def reachability(session: AsyncSession) -> Trend:
    runs = await _finished(session, DrillKind.REACHABILITY)
    officials = await _officials(session, [run.drill_id for run, _ in runs])
    points = []
    for run, title in runs:
        reached = officials.get(run.drill_id, 0)
        stale = max(0, reached - await _answered(session, run))
        points.append(_point(run, title, {"stale": float(stale)}, officials=str(reached)))
    series = (("stale", "Contacts à corriger (injoignables ou sans réponse)"),)
    return Trend(DrillKind.REACHABILITY.value, series, points)


async def _officials(session: AsyncSession, drill_ids: Sequence[int]) -> dict[int, int]:
    if not drill_ids:
        return {}
    query = select(Drill.id, Drill.participants).where(col(Drill.id).in_(sorted(set(drill_ids))))
    return {i: len(p or []) for i, p in (await session.exec(query)).all() if i is not None}


async def all_kinds(session: AsyncSession, *, actor: Actor) -> list[Trend]:
    actor.require(*READERS, action="consulter les tendances des exercices")
    return [await crisis(session), await on_call(session), await reachability(session)]
