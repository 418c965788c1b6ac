"""The one-hour clocks (ES47, ES48, ES50) and their alert thresholds, as rows.

A clock starts at an instant, has a deadline, and is met once; its thresholds are rows
created with it (`ClockAlert`, unique per clock and threshold), so that what is due lives in
our tables and each alert is sent exactly once (see `crisis.cell.clock_alerts`). The engine knows
nothing of a clock's meaning: a capability starts its clock with `start` and stops it with
`meet`, or gives the tick a `MetCheck` that tells when it is met (ES48's coverage).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import privacy
from crisis.errors import Conflict
from storage.types import UTCDateTime


class ClockCode(StrEnum):
    ES47 = "ES47"
    ES48 = "ES48"
    ES50 = "ES50"


CLOCK_LABELS: dict[str, str] = {
    ClockCode.ES47: "Cellule de communication opérationnelle",
    ClockCode.ES48: "Élus, médias et public informés",
    ClockCode.ES50: "Cellule d'information du public ouverte",
}
ALWAYS_SHOWN = (ClockCode.ES47, ClockCode.ES48)
"""Clocks listed (as `not_started`) before they start; ES50 appears once a CIP is ordered."""


class ClockStatus(StrEnum):
    NOT_STARTED = "not_started"
    RUNNING = "running"
    MET = "met"
    LATE = "late"
    OVERDUE = "overdue"


class Clock(SQLModel, table=True):
    __tablename__ = "clock"
    __table_args__ = (sa.UniqueConstraint("crisis_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    code: str = Field(max_length=8)
    started_at: datetime = Field(sa_type=UTCDateTime)
    deadline: datetime = Field(sa_type=UTCDateTime)
    met_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClockAlert(SQLModel, table=True):
    """One threshold of one clock; `sent_at` is set in the transaction that enqueues it."""

    __tablename__ = "clock_alert"
    __table_args__ = (
        sa.UniqueConstraint("clock_id", "threshold_min"),
        sa.Index("ix_clock_alert_due", "sent_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    clock_id: int = Field(foreign_key="clock.id", index=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    threshold_min: int
    due_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockRules:
    deadline_minutes: int = 60
    thresholds: tuple[int, ...] = (30, 45, 55, 60)


MetCheck = Callable[[AsyncSession, Clock], Awaitable[datetime | None]]
"""Tells when a running clock was met (None: not yet); the tick records it."""


async def start(
    session: AsyncSession,
    *,
    crisis_id: int,
    code: ClockCode,
    started_at: datetime,
    rules: ClockRules,
) -> Clock:
    """Start a clock and write its thresholds; a clock starts once per crisis."""
    existing = await find(session, crisis_id=crisis_id, code=code)
    if existing is not None:
        raise Conflict("clock_already_started", f"L'horloge {code} a déjà démarré.")
    clock = Clock(
        crisis_id=crisis_id,
        code=code,
        started_at=started_at,
        deadline=started_at + timedelta(minutes=rules.deadline_minutes),
    )
    session.add(clock)
    await session.flush()
    assert clock.id is not None
    session.add_all(
        ClockAlert(
            clock_id=clock.id,
            crisis_id=crisis_id,
            threshold_min=minutes,
            due_at=started_at + timedelta(minutes=minutes),
        )
        for minutes in rules.thresholds
    )
    await session.flush()
    return clock


async def find(session: AsyncSession, *, crisis_id: int, code: ClockCode) -> Clock | None:
    query = select(Clock).where(Clock.crisis_id == crisis_id, Clock.code == code)
    return (await session.exec(query)).first()


async def meet(session: AsyncSession, *, clock: Clock, met_at: datetime) -> bool:
    """Stop a clock (once); returns False when it was already met."""
    if clock.met_at is not None:
        return False
    clock.met_at = met_at
    session.add(clock)
    await session.flush()
    return True


def status(clock: Clock | None, *, now: datetime, met_at: datetime | None = None) -> ClockStatus:
    """The contract's status (§4): met on time, late, overdue, running, not started."""
    if clock is None:
        return ClockStatus.NOT_STARTED
    met = clock.met_at or met_at
    if met is not None:
        return ClockStatus.MET if met <= clock.deadline else ClockStatus.LATE
    return ClockStatus.OVERDUE if now > clock.deadline else ClockStatus.RUNNING


@dataclass(frozen=True, slots=True)
class ClockState:
    code: str
    clock: Clock | None
    alerts: tuple[ClockAlert, ...]
    met_at: datetime | None
    status: ClockStatus
    coverage: Mapping[str, Any] | None = None


async def states(
    session: AsyncSession,
    *,
    crisis_ids: Sequence[int],
    now: datetime,
    coverages: Mapping[tuple[int, str], Mapping[str, Any]] | None = None,
    computed_met: Mapping[tuple[int, str], datetime | None] | None = None,
) -> dict[int, list[ClockState]]:
    """Every clock of the crises (ES47 and ES48 always, started or not), with sent alerts."""
    if not crisis_ids:
        return {}
    rows = (await session.exec(select(Clock).where(col(Clock.crisis_id).in_(crisis_ids)))).all()
    alert_rows = (
        await session.exec(
            select(ClockAlert)
            .where(col(ClockAlert.crisis_id).in_(crisis_ids), col(ClockAlert.sent_at).is_not(None))
            .order_by(col(ClockAlert.threshold_min))
        )
    ).all()
    alerts: dict[int, list[ClockAlert]] = {}
    for alert in alert_rows:
        alerts.setdefault(alert.clock_id, []).append(alert)
    by_key = {(c.crisis_id, c.code): c for c in rows}
    result: dict[int, list[ClockState]] = {}
    for crisis_id in crisis_ids:
        codes = [*ALWAYS_SHOWN, *(c.code for c in rows if c.crisis_id == crisis_id)]
        found: list[ClockState] = []
        for code in dict.fromkeys(str(c) for c in codes):
            clock = by_key.get((crisis_id, code))
            met_at = clock.met_at if clock else None
            if clock is not None and met_at is None and computed_met:
                met_at = computed_met.get((crisis_id, code))
            found.append(
                ClockState(
                    code=code,
                    clock=clock,
                    alerts=tuple(alerts.get(clock.id or 0, ())) if clock else (),
                    met_at=met_at,
                    status=status(clock, now=now, met_at=met_at),
                    coverage=(coverages or {}).get((crisis_id, code)),
                )
            )
        result[crisis_id] = found
    return result


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def seen_by(state: ClockState, *, personal: bool) -> ClockState:
    """The state as a viewer sees it: ES48's missing officials and media per `crisis.privacy`."""
    return replace(state, coverage=privacy.coverage(state.coverage, personal=personal))


def state_view(state: ClockState, *, personal: bool) -> dict[str, Any]:
    """The contract's shape (§4)."""
    state = seen_by(state, personal=personal)
    view: dict[str, Any] = {
        "code": state.code,
        "label": CLOCK_LABELS.get(state.code, state.code),
        "started_at": _iso(state.clock.started_at) if state.clock else None,
        "deadline": _iso(state.clock.deadline) if state.clock else None,
        "status": state.status.value,
        "met_at": _iso(state.met_at),
        "alerts": [
            {"threshold_min": a.threshold_min, "sent_at": _iso(a.sent_at), "late": a.late}
            for a in state.alerts
        ],
    }
    if state.coverage is not None:
        view["coverage"] = state.coverage
    return view


async def running(session: AsyncSession, *, code: ClockCode) -> list[Clock]:
    """Started and not met clocks of one code (for the tick's met checks)."""
    query = select(Clock).where(Clock.code == code, col(Clock.met_at).is_(None))
    return list((await session.exec(query)).all())
