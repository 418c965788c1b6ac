"""The on-call roster (astreinte): who is on duty when, by role and escalation level."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypedDict

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import Contact
from storage.types import UTCDateTime


class DutyRole(StrEnum):
    COMMUNICATION = "communication"
    VALIDATOR = "validator"
    PREFECT = "prefect"


DUTY_LABELS: dict[str, str] = {
    DutyRole.COMMUNICATION: "Chargé de communication d'astreinte",
    DutyRole.VALIDATOR: "Valideur d'astreinte",
    DutyRole.PREFECT: "Corps préfectoral de permanence",
}
REQUIRED_ROLES: tuple[str, ...] = tuple(r.value for r in DutyRole)
"""The cell's duty roles: paged when the cell is ordered, watched for gaps on the dashboard."""


class CipDutyRole(StrEnum):
    """The CIP's own on-call list (ORSEC CIP guide roles), paged when the CIP is ordered."""

    HEAD = "cip_head"
    OPERATOR = "cip_operator"
    TECHNICIAN = "cip_technician"
    SPECIALIST = "cip_specialist"


CIP_DUTY_ROLES: tuple[str, ...] = tuple(r.value for r in CipDutyRole)
DUTY_LABELS.update(
    {
        CipDutyRole.HEAD: "CIP — chef de cellule d'astreinte",
        CipDutyRole.OPERATOR: "CIP — opérateur d'astreinte",
        CipDutyRole.TECHNICIAN: "CIP — technicien d'astreinte",
        CipDutyRole.SPECIALIST: "CIP — spécialiste d'astreinte",
    }
)
ROSTER_ROLES: tuple[str, ...] = REQUIRED_ROLES + CIP_DUTY_ROLES


class Shift(SQLModel, table=True):
    """One person on duty for one role and level over [starts_at, ends_at)."""

    __tablename__ = "roster_shift"
    __table_args__ = (
        sa.Index("ix_roster_shift_span", "starts_at", "ends_at"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_roster_shift_order"),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name="ck_roster_shift_level"),
    )

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(max_length=20)
    level: int = 1
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    user_id: int | None = None
    name: str = Field(max_length=200)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    source: str = Field(default="manual", max_length=10)


@dataclass(frozen=True, slots=True)
class Span:
    role: str
    level: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Gap:
    """Nobody on duty for `role` (at level 1 to 3) over [starts_at, ends_at)."""

    role: str
    starts_at: datetime
    ends_at: datetime

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


def coverage_gaps(
    spans: Iterable[Span],
    *,
    start: datetime,
    end: datetime,
    roles: Sequence[str] = REQUIRED_ROLES,
) -> list[Gap]:
    """The intervals of [start, end) where a required role has nobody on duty (any level)."""
    gaps: list[Gap] = []
    by_role: dict[str, list[Span]] = {role: [] for role in roles}
    for span in spans:
        if span.role in by_role and span.ends_at > start and span.starts_at < end:
            by_role[span.role].append(span)
    for role in roles:
        cursor = start
        for span in sorted(by_role[role], key=lambda s: s.starts_at):
            if span.starts_at > cursor:
                gaps.append(Gap(role, cursor, span.starts_at))
            cursor = max(cursor, span.ends_at)
            if cursor >= end:
                break
        if cursor < end:
            gaps.append(Gap(role, cursor, end))
    return sorted(gaps, key=lambda g: (g.starts_at, g.role))


def uncovered_hours(gaps: Iterable[Gap]) -> int:
    """Clock hours (started hours) in which some required role is uncovered."""
    hours: set[datetime] = set()
    for gap in gaps:
        hour = gap.starts_at.replace(minute=0, second=0, microsecond=0)
        while hour < gap.ends_at:
            hours.add(hour)
            hour += timedelta(hours=1)
    return len(hours)


def _overlapping(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(col(Shift.starts_at) < end, col(Shift.ends_at) > start)


async def shifts_between(session: AsyncSession, *, start: datetime, end: datetime) -> list[Shift]:
    query = (
        select(Shift)
        .where(_overlapping(start, end))
        .order_by(col(Shift.starts_at), col(Shift.role), col(Shift.level))
    )
    return list((await session.exec(query)).all())


async def on_duty(session: AsyncSession, *, at: datetime) -> list[Shift]:
    """Who is on duty at `at`, by role then escalation level."""
    query = (
        select(Shift)
        .where(col(Shift.starts_at) <= at, col(Shift.ends_at) > at)
        .order_by(col(Shift.role), col(Shift.level), col(Shift.id))
    )
    return list((await session.exec(query)).all())


async def roster_gaps(session: AsyncSession, *, now: datetime, days: int = 30) -> list[Gap]:
    """Gaps of the next `days` days for the required roles (the dashboard warns on any)."""
    end = now + timedelta(days=days)
    shifts = await shifts_between(session, start=now, end=end)
    spans = [Span(s.role, s.level, s.starts_at, s.ends_at) for s in shifts]
    return coverage_gaps(spans, start=now, end=end)


class _ShiftSpan(TypedDict):
    role: str
    level: int
    starts_at: datetime
    ends_at: datetime


class ShiftFields(_ShiftSpan, total=False):
    """What a new shift is given (`add_shift`'s arguments), the person by contact or user."""

    contact_id: int | None
    user_id: int | None
    name: str


async def _checked_name(
    session: AsyncSession,
    *,
    role: str,
    level: int,
    starts_at: datetime,
    ends_at: datetime,
    contact_id: int | None,
    user_id: int | None,
    name: str,
) -> str:
    """The shift's person's name once every field makes sense; ValueError (French) otherwise."""
    if role not in ROSTER_ROLES:
        raise ValueError(f"rôle d'astreinte inconnu « {role} »")
    if not 1 <= level <= 3:
        raise ValueError("niveau d'astreinte entre 1 et 3")
    if ends_at <= starts_at:
        raise ValueError("la fin de l'astreinte doit suivre son début")
    if (contact_id is None) == (user_id is None):
        raise ValueError("indiquez soit un contact, soit un utilisateur")
    if contact_id is not None:
        contact = await session.get(Contact, contact_id)
        if contact is None:
            raise ValueError(f"aucun contact n° {contact_id}")
        name = name or contact.display_name
    return name


async def add_shift(
    session: AsyncSession,
    *,
    role: str,
    level: int,
    starts_at: datetime,
    ends_at: datetime,
    contact_id: int | None = None,
    user_id: int | None = None,
    name: str = "",
    source: str = "manual",
) -> Shift:
    """Add a shift; ValueError (French) when it makes no sense."""
    name = await _checked_name(
        session,
        role=role,
        level=level,
        starts_at=starts_at,
        ends_at=ends_at,
        contact_id=contact_id,
        user_id=user_id,
        name=name,
    )
    shift = Shift(
        role=role,
        level=level,
        contact_id=contact_id,
        user_id=user_id,
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        source=source,
    )
    session.add(shift)
    await session.flush()
    return shift


async def shift_by_id(session: AsyncSession, *, shift_id: int) -> Shift:
    """The shift; LookupError (French) when there is none."""
    shift = await session.get(Shift, shift_id)
    if shift is None:
        raise LookupError(f"aucun tour d'astreinte n° {shift_id}")
    return shift


async def change_shift(
    session: AsyncSession,
    *,
    shift_id: int,
    role: str,
    level: int,
    starts_at: datetime,
    ends_at: datetime,
    contact_id: int | None = None,
    user_id: int | None = None,
    name: str = "",
) -> Shift:
    """Replace every field of a shift (the same checks as `add_shift`)."""
    shift = await shift_by_id(session, shift_id=shift_id)
    name = await _checked_name(
        session,
        role=role,
        level=level,
        starts_at=starts_at,
        ends_at=ends_at,
        contact_id=contact_id,
        user_id=user_id,
        name=name,
    )
    shift.role, shift.level, shift.starts_at, shift.ends_at = role, level, starts_at, ends_at
    shift.contact_id, shift.user_id, shift.name = contact_id, user_id, name
    session.add(shift)
    await session.flush()
    return shift


async def swap_people(
    session: AsyncSession, *, first_id: int, second_id: int
) -> tuple[Shift, Shift]:
    """The two shifts exchange their people; roles, levels and times stay in place."""
    if first_id == second_id:
        raise ValueError("choisissez deux tours différents")
    first = await shift_by_id(session, shift_id=first_id)
    second = await shift_by_id(session, shift_id=second_id)
    first.contact_id, second.contact_id = second.contact_id, first.contact_id
    first.user_id, second.user_id = second.user_id, first.user_id
    first.name, second.name = second.name, first.name
    session.add_all([first, second])
    await session.flush()
    return first, second


async def delete_shift(session: AsyncSession, *, shift_id: int) -> Shift:
    """Remove a shift; returns it as it was."""
    shift = await shift_by_id(session, shift_id=shift_id)
    await session.delete(shift)
    await session.flush()
    return shift
