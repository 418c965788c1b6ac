"""An on-call member answers the cell's page: through the API, their link, or a reply « OK ».

Who may acknowledge what is stated here, once: a person answers for themselves, in a duty role
they hold (the user role that goes with it, or a page for that role in this crisis); a paged
person's link or reply acknowledges the duty role of their page and nothing else. The cabinet
(`ON_BEHALF_ROLES`) may record a call answered by phone for someone else, who must hold the
role too: the row, the journal and every view then say « enregistré par … pour … ».
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import Contact
from contacts.roster import DUTY_LABELS, REQUIRED_ROLES, DutyRole, Shift, on_duty
from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import crises, paging
from crisis.cell.checklist import STAFF_ROLES
from crisis.cell.crises import Crisis, RefusedInput
from crisis.cell.paging import CellAcknowledgement, CellPage
from crisis.errors import Conflict, Forbidden, NotFound
from crisis.users import User
from crisis.vocabulary import CrisisStatus

DUTY_HOLDERS: dict[str, frozenset[Role]] = {
    DutyRole.COMMUNICATION: frozenset({Role.COMMUNICATOR}),
    DutyRole.VALIDATOR: frozenset({Role.VALIDATOR}),
    DutyRole.PREFECT: frozenset({Role.PREFECT}),
}
"""The user roles that hold each duty role of the cell."""
ON_BEHALF_ROLES = (Role.PREFECT,)
"""The cabinet: may record, for someone else, a call answered by phone."""
PHONE_VIA = "phone"


@dataclass(frozen=True, slots=True)
class Responder:
    """Who answers: one user or one contact, with the name shown everywhere."""

    person: str  # "contact:12" or "user:3"
    name: str
    contact_id: int | None
    user_id: int | None
    roles: frozenset[Role]


def parse_person(value: str, *, default_user: int | None) -> tuple[int | None, int | None]:
    """A form's choice: "" (oneself), "contact:12" or "user:3", as (contact_id, user_id)."""
    if not value:
        return None, default_user
    kind, _, number = value.partition(":")
    if kind not in ("contact", "user") or not number.isdigit() or not 0 < int(number) < 2**31:
        raise RefusedInput("unknown_person", f"Personne inconnue : « {value} ».")
    return (int(number), None) if kind == "contact" else (None, int(number))


def recorded_note(ack: CellAcknowledgement) -> str | None:
    """« enregistré par … pour … » for an acknowledgement recorded on someone's behalf."""
    return f"enregistré par {ack.recorded_by} pour {ack.name}" if ack.on_behalf else None


async def _locked(session: AsyncSession, crisis_id: int) -> Crisis:
    return await crises.get(session, crisis_id=crisis_id, for_update=True)


def _check_open(crisis: Crisis, duty_role: str) -> None:
    if crisis.status == CrisisStatus.CLOSED:
        raise Conflict("crisis_closed", "L'événement est clos.")
    if crisis.status == CrisisStatus.DECLARED:
        raise Conflict("cell_not_ordered", "La cellule n'a pas été ordonnée.")
    if duty_role not in REQUIRED_ROLES:
        raise RefusedInput("unknown_duty_role", f"Rôle d'astreinte inconnu : « {duty_role} ».")


async def _record_acknowledgement(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis: Crisis,
    duty_role: str,
    responder: Responder,
    via: str,
    now: datetime,
    on_behalf: bool = False,
) -> CellAcknowledgement:
    _check_open(crisis, duty_role)
    assert crisis.id is not None
    ack = CellAcknowledgement(
        crisis_id=crisis.id,
        duty_role=duty_role,
        person=responder.person,
        contact_id=responder.contact_id,
        user_id=responder.user_id,
        name=responder.name,
        at=now,
        via=via,
        recorded_by=actor.login,
        on_behalf=on_behalf,
    )
    duplicate = await session.exec(
        select(CellAcknowledgement.id).where(
            CellAcknowledgement.crisis_id == crisis.id,
            CellAcknowledgement.duty_role == duty_role,
            CellAcknowledgement.person == responder.person,
        )
    )
    if duplicate.first() is not None:
        raise Conflict(
            "already_acknowledged",
            f"{responder.name} a déjà répondu pour ce rôle.",
            {"person": responder.person},
        )
    session.add(ack)
    await session.flush()
    payload = {"role": duty_role, "name": responder.name, "via": via, "person": responder.person}
    note = recorded_note(ack)
    if note is not None:
        payload |= {"recorded_by": actor.login, "note": note}
    await journal.append(
        session,
        actor=actor,
        action="cell.acknowledged",
        now=now,
        crisis_id=crisis.id,
        payload=payload,
    )
    return ack


async def _responder(
    session: AsyncSession, *, contact_id: int | None, user_id: int | None
) -> Responder:
    if (contact_id is None) == (user_id is None):
        raise RefusedInput("person_required", "Indiquez soit un contact, soit un utilisateur.")
    if contact_id is not None:
        contact = await session.get(Contact, contact_id)
        if contact is None:
            raise NotFound("contact_not_found", f"Aucun contact n° {contact_id}.")
        return Responder(
            f"contact:{contact_id}", contact.display_name, contact_id, None, frozenset()
        )
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("user_not_found", f"Aucun utilisateur actif n° {user_id}.")
    name = user.display_name or user.login
    return Responder(f"user:{user_id}", name, None, user_id, user.actor().roles)


async def _holds(
    session: AsyncSession, *, crisis_id: int, responder: Responder, duty_role: str, now: datetime
) -> bool:
    """A user role that goes with the duty role, a page for it, or a shift of it now."""
    if responder.roles & DUTY_HOLDERS.get(duty_role, frozenset()):
        return True
    for row in await paging.pages_of(session, crisis_id=crisis_id):
        if row.duty_role == duty_role and _same_person(row, responder):
            return True
    shifts = await on_duty(session, at=now)
    return any(s.role == duty_role and _same_person(s, responder) for s in shifts)


def _same_person(row: CellPage | Shift, responder: Responder) -> bool:
    if responder.contact_id is not None:
        return row.contact_id == responder.contact_id
    return row.user_id is not None and row.user_id == responder.user_id


async def acknowledge(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    duty_role: str,
    now: datetime,
    contact_id: int | None = None,
    user_id: int | None = None,
) -> CellAcknowledgement:
    """A member answers for themselves, or the cabinet records a call answered by phone."""
    actor.require(*STAFF_ROLES, action="enregistrer une réponse d'astreinte")
    crisis = await _locked(session, crisis_id)
    _check_open(crisis, duty_role)
    responder = await _responder(session, contact_id=contact_id, user_id=user_id)
    on_behalf = actor.is_system or contact_id is not None or user_id != actor.user_id
    if on_behalf:
        actor.require(*ON_BEHALF_ROLES, action="enregistrer la réponse d'un autre membre")
    if not await _holds(
        session, crisis_id=crisis_id, responder=responder, duty_role=duty_role, now=now
    ):
        who = f"{responder.name} n'a" if on_behalf else "Vous n'avez"
        raise Forbidden(
            "duty_role_not_held",
            f"{who} pas le rôle « {DUTY_LABELS[duty_role]} » : réponse refusée.",
            {"role": duty_role, "person": responder.person},
        )
    ack = await _record_acknowledgement(
        session,
        actor=actor,
        crisis=crisis,
        duty_role=duty_role,
        responder=responder,
        via=PHONE_VIA if on_behalf else "api",
        now=now,
        on_behalf=on_behalf,
    )
    for row in await paging.pages_of(session, crisis_id=crisis_id):
        if _same_person(row, responder) and row.duty_role == duty_role and not row.acknowledged_at:
            row.acknowledged_at = now
            session.add(row)
    return ack


async def page_by_token(session: AsyncSession, *, token: str) -> CellPage:
    query = select(CellPage).where(CellPage.token_digest == paging.token_digest(token))
    row = (await session.exec(query)).first()
    if row is None:
        raise NotFound("page_not_found", "Lien d'accusé de réception inconnu.")
    return row


async def acknowledge_page(
    session: AsyncSession, *, row: CellPage, actor: Actor, via: str, now: datetime
) -> CellPage:
    """A cell page answered (`crisis.paged_answers` routes the answers of every roster)."""
    crisis = await _locked(session, row.crisis_id)
    responder = Responder(row.person, row.name, row.contact_id, row.user_id, frozenset())
    await _record_acknowledgement(
        session,
        actor=actor,
        crisis=crisis,
        duty_role=row.duty_role,
        responder=responder,
        via=via,
        now=now,
    )
    row.acknowledged_at = now
    session.add(row)
    return row
