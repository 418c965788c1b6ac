"""What the public pages may show of the CIP: its number, while it is open."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.cip import numbers, record
from crisis.cip.vocabulary import CipState


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
