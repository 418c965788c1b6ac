"""A run's score (RETEX): its clocks, the first bulletin per audience, delivery and
acknowledgement rates, and its timeline. Delivery figures are SQL aggregates (one grouped
query), never the deliveries loaded one by one: a run of 10,000 deliveries scores in
milliseconds (`bench/exercises`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal, privacy
from crisis.cell import overview
from crisis.cell.clocks import ClockState, ClockStatus
from crisis.cell.crises import Crisis
from crisis.dispatch.rows import DELIVERED_STATUSES, Delivery, Purpose
from crisis.journal_details import describe
from crisis.labels import AUDIENCE_LABELS, CLOCK_STATUS_LABELS, action_label, actor_label

__all__ = [
    "TIMELINE_SHOWN",
    "audiences",
    "clock_results",
    "clock_view",
    "rate",
    "timeline",
    "totals",
]

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
TIMELINE_SHOWN = 500
NOT_REACHED = "non atteint"


def rate(part: int, whole: int) -> float | None:
    """A share in percent, one decimal (None when there is nothing to divide)."""
    return round(100 * part / whole, 1) if whole else None


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds()))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def clock_view(state: ClockState) -> dict[str, Any]:
    clock = state.clock
    started = clock.started_at if clock else None
    deadline = clock.deadline if clock else None
    late = _seconds(deadline, state.met_at) if state.met_at and deadline else None
    return {
        "code": state.code,
        "status": state.status.value,
        "status_label": CLOCK_STATUS_LABELS.get(state.status, state.status.value),
        "started_at": _iso(started),
        "deadline": _iso(deadline),
        "met_at": _iso(state.met_at),
        "met_after_seconds": _seconds(started, state.met_at),
        "late_by_seconds": late if state.status == ClockStatus.LATE else None,
    }


async def clock_results(session: AsyncSession, *, crisis: Crisis, now: datetime) -> list[Any]:
    """ES47, ES48 and ES50 as the cell saw them: met, late, overdue, with their times."""
    assert crisis.id is not None
    states = await overview.clock_states(session, crises=[crisis], now=now, missing_shown=0)
    return [clock_view(s) for s in states.get(crisis.id, [])]


def _count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


async def audiences(
    session: AsyncSession, *, crisis: Crisis, since: datetime | None
) -> list[dict[str, Any]]:
    """Per audience played: bulletin deliveries, delivered and acknowledged shares, and the
    first bulletin's publication and delivery, timed from the run's start (`since`)."""
    c = DELIVERIES.c
    audience = sa.func.coalesce(c.played_audience, c.audience)
    query = (
        sa.select(
            audience,
            sa.func.count(),
            _count_where(c.status.in_([s.value for s in DELIVERED_STATUSES])),
            _count_where(c.confirmed_at.is_not(None)),
            _count_where(c.status == "failed"),
            sa.func.min(c.created_at),
            sa.func.min(c.sent_at),
        )
        .where(c.crisis_id == crisis.id, c.purpose == Purpose.BULLETIN.value)
        .group_by(audience)
        .order_by(audience)
    )
    rows = (await (await session.connection()).execute(query)).all()
    return [
        {
            "audience": name,
            "audience_label": AUDIENCE_LABELS.get(name, name),
            "deliveries": total,
            "delivered": delivered,
            "acknowledged": acked,
            "failed": failed,
            "delivery_rate": rate(delivered, total),
            "acknowledgement_rate": rate(acked, total),
            "first_published_at": _iso(_aware(published)),
            "first_published_after_seconds": _seconds(since, _aware(published)),
            "first_delivered_at": _iso(_aware(sent)),
            "first_delivered_after_seconds": _seconds(since, _aware(sent)),
        }
        for name, total, delivered, acked, failed, published, sent in rows
    ]


def _aware(value: datetime | None) -> datetime | None:
    """An aggregate's instant: SQLite's MIN returns it without the column type's UTC zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def totals(lines: list[dict[str, Any]]) -> dict[str, Any]:
    total = sum(line["deliveries"] for line in lines)
    delivered = sum(line["delivered"] for line in lines)
    acked = sum(line["acknowledged"] for line in lines)
    return {
        "deliveries": total,
        "delivered": delivered,
        "acknowledged": acked,
        "delivery_rate": rate(delivered, total),
        "acknowledgement_rate": rate(acked, total),
    }


async def timeline(session: AsyncSession, *, crisis_id: int, personal: bool) -> list[Any]:
    """The run's journal as people read it (the first `TIMELINE_SHOWN` entries)."""
    entries = await journal.for_crisis(session, crisis_id=crisis_id, limit=TIMELINE_SHOWN)
    lines = []
    for entry in privacy.journal_entries(entries, personal=personal):
        detail = describe(entry.action, json.loads(entry.payload))
        shown = [detail.sentence, *(f"{label} : {value}" for label, value in detail.fields)]
        lines.append(
            {
                "at": entry.at.isoformat(),
                "action": entry.action,
                "action_label": action_label(entry.action),
                "actor": actor_label(entry.actor),
                "detail": " — ".join(part for part in shown if part),
            }
        )
    return lines
