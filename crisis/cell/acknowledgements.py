"""An on-call member answers the cell's page: through the API, their link, or a reply « OK »."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import Contact
from contacts.roster import DUTY_LABELS
from crisis import journal
from crisis.actors import Actor
from crisis.cell import crises, paging
from crisis.cell.checklist import STAFF_ROLES
from crisis.cell.crises import Crisis, RefusedInput
from crisis.cell.paging import CellAcknowledgement, CellPage
from crisis.errors import Conflict, NotFound
from crisis.vocabulary import CrisisStatus


async def _locked(session: AsyncSession, crisis_id: int) -> Crisis:
    return await crises.get(session, crisis_id=crisis_id, for_update=True)


async def _record_acknowledgement(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis: Crisis,
    duty_role: str,
    person: str,
    name: str,
    contact_id: int | None,
    user_id: int | None,
    via: str,
    now: datetime,
) -> CellAcknowledgement:
    if crisis.status == CrisisStatus.CLOSED:
        raise Conflict("crisis_closed", "L'événement est clos.")
    if crisis.status == CrisisStatus.DECLARED:
        raise Conflict("cell_not_ordered", "La cellule n'a pas été ordonnée.")
    if duty_role not in DUTY_LABELS:
        raise RefusedInput("unknown_duty_role", f"Rôle d'astreinte inconnu : « {duty_role} ».")
    assert crisis.id is not None
    ack = CellAcknowledgement(
        crisis_id=crisis.id,
        duty_role=duty_role,
        person=person,
        contact_id=contact_id,
        user_id=user_id,
        name=name,
        at=now,
        via=via,
        recorded_by=actor.login,
    )
    duplicate = await session.exec(
        select(CellAcknowledgement.id).where(
            CellAcknowledgement.crisis_id == crisis.id,
            CellAcknowledgement.duty_role == duty_role,
            CellAcknowledgement.person == person,
        )
    )
    if duplicate.first() is not None:
        raise Conflict(
            "already_acknowledged", f"{name} a déjà répondu pour ce rôle.", {"person": person}
        )
    session.add(ack)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="cell.acknowledged",
        now=now,
        crisis_id=crisis.id,
        payload={"role": duty_role, "name": name, "via": via, "person": person},
    )
    return ack


async def acknowledge(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    duty_role: str,
    now: datetime,
    contact_id: int | None = None,
    user_id: int | None = None,
    user_name: str = "",
) -> CellAcknowledgement:
    """An on-call member answers the page (API, or recorded for them by the cell)."""
    actor.require(*STAFF_ROLES, action="enregistrer une réponse d'astreinte")
    crisis = await _locked(session, crisis_id)
    if (contact_id is None) == (user_id is None):
        raise RefusedInput("person_required", "Indiquez soit un contact, soit un utilisateur.")
    if contact_id is not None:
        contact = await session.get(Contact, contact_id)
        if contact is None:
            raise NotFound("contact_not_found", f"Aucun contact n° {contact_id}.")
        person, name = f"contact:{contact_id}", contact.display_name
    else:
        person, name = f"user:{user_id}", user_name or f"utilisateur {user_id}"
    ack = await _record_acknowledgement(
        session,
        actor=actor,
        crisis=crisis,
        duty_role=duty_role,
        person=person,
        name=name,
        contact_id=contact_id,
        user_id=user_id,
        via="api",
        now=now,
    )
    for row in await paging.pages_of(session, crisis_id=crisis_id):
        same = (contact_id and row.contact_id == contact_id) or (user_id and row.user_id == user_id)
        if same and row.duty_role == duty_role and row.acknowledged_at is None:
            row.acknowledged_at = now
            session.add(row)
    return ack


async def page_by_token(session: AsyncSession, *, token: str) -> CellPage:
    query = select(CellPage).where(CellPage.token_digest == paging.token_digest(token))
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("page_not_found", "Lien d'accusé de réception inconnu.")
    return row


async def acknowledge_link(session: AsyncSession, *, token: str, now: datetime) -> CellPage:
    """The paged person follows their link (single use)."""
    row = await page_by_token(session, token=token)
    if row.acknowledged_at is not None:
        raise Conflict("link_already_used", "Ce lien a déjà servi : votre réponse est enregistrée.")
    actor = Actor(None, f"astreinte:{row.name}", frozenset())
    return await _acknowledge_page(session, row=row, actor=actor, via="link", now=now)


async def acknowledge_reply(session: AsyncSession, *, page_id: int, now: datetime) -> CellPage:
    """The paged person answered « OK » to the page on Telegram or by SMS."""
    row = await session.get(CellPage, page_id, with_for_update=True)
    if row is None:
        raise NotFound("page_not_found", f"Aucun appel d'astreinte n° {page_id}.")
    if row.acknowledged_at is not None:
        raise Conflict("already_acknowledged", f"{row.name} a déjà répondu.")
    actor = Actor(None, row.name[:64], frozenset())
    return await _acknowledge_page(session, row=row, actor=actor, via="reply", now=now)


async def _acknowledge_page(
    session: AsyncSession, *, row: CellPage, actor: Actor, via: str, now: datetime
) -> CellPage:
    crisis = await _locked(session, row.crisis_id)
    person = f"contact:{row.contact_id}" if row.contact_id else f"user:{row.user_id}"
    await _record_acknowledgement(
        session,
        actor=actor,
        crisis=crisis,
        duty_role=row.duty_role,
        person=person,
        name=row.name,
        contact_id=row.contact_id,
        user_id=row.user_id,
        via=via,
        now=now,
    )
    row.acknowledged_at = now
    session.add(row)
    return row
