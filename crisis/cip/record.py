"""The CIP of a crisis (one at most) and its operators' shifts, as rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.cell.tracks import CipTrack
from crisis.cip.vocabulary import CipState
from crisis.errors import Conflict
from storage.types import UTCDateTime


class Cip(SQLModel, table=True):
    __tablename__ = "cip"

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", unique=True)
    number: str = Field(max_length=20)
    ordered_at: datetime = Field(sa_type=UTCDateTime)
    ordered_by: str = Field(max_length=64)
    decided_by: str = Field(max_length=200)
    expected_opening_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_by: str | None = Field(default=None, max_length=64)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=64)

    @property
    def state(self) -> CipState:
        if self.closed_at is not None:
            return CipState.CLOSED
        return CipState.OPEN if self.opened_at is not None else CipState.ORDERED


class CipShift(SQLModel, table=True):
    """One person's time in the CIP: checked in, then out with a hand-over note."""

    __tablename__ = "cip_shift"
    __table_args__ = (sa.Index("ix_cip_shift_present", "crisis_id", "checked_out_at"),)

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    name: str = Field(max_length=200)
    role: str = Field(max_length=20)
    checked_in_at: datetime = Field(sa_type=UTCDateTime)
    checked_in_by: str = Field(max_length=64)
    checked_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    checked_out_by: str | None = Field(default=None, max_length=64)
    handover_note: str | None = Field(default=None, sa_type=sa.Text)


async def find(session: AsyncSession, *, crisis_id: int, lock: bool = False) -> Cip | None:
    query = select(Cip).where(Cip.crisis_id == crisis_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(query)).first()


async def required(session: AsyncSession, *, crisis_id: int, lock: bool = False) -> Cip:
    """The crisis' CIP; 409 when none was ordered."""
    cip = await find(session, crisis_id=crisis_id, lock=lock)
    if cip is None:
        raise Conflict("cip_not_ordered", "La CIP n'a pas été ordonnée pour cet événement.")
    return cip


def require_not_closed(cip: Cip) -> None:
    if cip.closed_at is not None:
        raise Conflict("cip_closed", "La CIP est fermée.", {"closed_at": cip.closed_at.isoformat()})


async def shifts(
    session: AsyncSession, *, crisis_id: int, present_only: bool = False
) -> list[CipShift]:
    query = select(CipShift).where(CipShift.crisis_id == crisis_id)
    if present_only:
        query = query.where(col(CipShift.checked_out_at).is_(None))
    return list((await session.exec(query.order_by(col(CipShift.id)))).all())


async def tracks(session: AsyncSession, *, crisis_ids: Sequence[int]) -> dict[int, CipTrack]:
    """Each crisis' CIP track (not ordered when absent from the result)."""
    if not crisis_ids:
        return {}
    rows = (await session.exec(select(Cip).where(col(Cip.crisis_id).in_(list(crisis_ids))))).all()
    return {c.crisis_id: CipTrack(c.state.value) for c in rows}


async def not_closed(session: AsyncSession) -> list[Cip]:
    """The CIPs ordered or open, most recently ordered first."""
    query = select(Cip).where(col(Cip.closed_at).is_(None)).order_by(col(Cip.ordered_at).desc())
    return list((await session.exec(query)).all())
