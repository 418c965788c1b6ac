"""An answer to a page, by its single-use link or an « OK » reply, whichever roster paged.

The cell's roster acknowledges for the duty role paged (`crisis.cell.acknowledgements`); the
CIP's own roster checks in, or is recorded en route (`crisis.cip.pager`). Both wings share the
page rows; this floor module sends each answer to its wing.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.roster import CIP_DUTY_ROLES
from crisis.actors import Actor
from crisis.cell import acknowledgements
from crisis.cell.paging import CellPage
from crisis.cip import pager
from crisis.errors import Conflict, NotFound


async def acknowledge_link(session: AsyncSession, *, token: str, now: datetime) -> CellPage:
    """The paged person follows their link (single use), for the role of their page."""
    row = await acknowledgements.page_by_token(session, token=token)
    if row.acknowledged_at is not None:
        raise Conflict("link_already_used", "Ce lien a déjà servi : votre réponse est enregistrée.")
    actor = Actor(None, f"astreinte:{row.name}"[:64], frozenset())
    return await _answered(session, row=row, actor=actor, via="link", now=now)


async def acknowledge_reply(session: AsyncSession, *, page_id: int, now: datetime) -> CellPage:
    """The paged person answered « OK » to the page on Telegram or by SMS (its role only)."""
    row = await session.get(CellPage, page_id, with_for_update=True)
    if row is None:
        raise NotFound("page_not_found", f"Aucun appel d'astreinte n° {page_id}.")
    if row.acknowledged_at is not None:
        raise Conflict("already_acknowledged", f"{row.name} a déjà répondu.")
    actor = Actor(None, row.name[:64], frozenset())
    return await _answered(session, row=row, actor=actor, via="reply", now=now)


async def _answered(
    session: AsyncSession, *, row: CellPage, actor: Actor, via: str, now: datetime
) -> CellPage:
    if row.duty_role in CIP_DUTY_ROLES:  # the CIP's own roster: the answer is a check-in
        await pager.answered(session, row=row, actor=actor, via=via, now=now)
        return row
    return await acknowledgements.acknowledge_page(session, row=row, actor=actor, via=via, now=now)
