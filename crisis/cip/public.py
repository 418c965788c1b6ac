"""What the public pages may show of the CIP: its number, while it is open."""

from __future__ import annotations

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.cell.crises import Crisis
from crisis.cip import numbers, record
from crisis.cip.vocabulary import CipState
from crisis.vocabulary import CrisisMode


async def open_cip_number(session: AsyncSession, crisis_id: int) -> str | None:
    """The single number as people dial it (« 0 800 10 02 00 »), or None unless the CIP
    of the crisis is open."""
    cip = await record.find(session, crisis_id=crisis_id)
    if cip is None or cip.state != CipState.OPEN:
        return None
    return numbers.shown(cip.number)


async def ordered_number(session: AsyncSession, crisis_id: int) -> str | None:
    """The number of the crisis' CIP once ordered and until closed, for the bulletin
    announcing it (a draft is prepared before the CIP opens)."""
    cip = await record.find(session, crisis_id=crisis_id)
    if cip is None or cip.state == CipState.CLOSED:
        return None
    return numbers.shown(cip.number)


async def current_number(session: AsyncSession, *, exercise: bool) -> str | None:
    """The number the public pages of a mode show: the most recently opened CIP still open,
    of a crisis of that mode (exercise CIPs only on the exercise pages)."""
    mode = CrisisMode.EXERCISE if exercise else CrisisMode.REAL
    query = (
        select(record.Cip.number)
        .join(Crisis, col(Crisis.id) == col(record.Cip.crisis_id))
        .where(
            col(record.Cip.opened_at).is_not(None),
            col(record.Cip.closed_at).is_(None),
            Crisis.mode == mode,
        )
        .order_by(col(record.Cip.opened_at).desc())
        .limit(1)
    )
    number = (await session.exec(query)).first()
    return numbers.shown(number) if number else None


async def stamp(session: AsyncSession) -> tuple[object, ...]:
    """What changes when a CIP opens or closes, for the public cache."""
    query = select(
        func.count(col(record.Cip.id)),
        func.max(record.Cip.opened_at),
        func.max(record.Cip.closed_at),
    )
    return tuple((await session.exec(query)).one())
