"""The crisis state machine: declared → cell ordered → cell operational → COD activated
(→ CIP, later) → closed.

Each step checks the actor's roles and the crisis' state, changes the rows and appends to
the journal in the caller's transaction. A refusal raises `Conflict` (409) or
`RefusedInput` (422), both journaled by the web layer in their own transaction, while the
action's transaction rolls back: nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import Contact
from contacts.roster import DUTY_LABELS, DutyRole
from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import clocks, crises, paging
from crisis.cell.checklist import STAFF_ROLES
from crisis.cell.clocks import ClockCode, ClockRules
from crisis.cell.crises import Crisis, CrisisStatus
from crisis.cell.paging import CellAcknowledgement, CellPage
from crisis.errors import Conflict, InvalidInput, NotFound

SYNERGI_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{2,59}$")
ORDER = list(CrisisStatus)


class RefusedInput(InvalidInput):
    """Bad input on a crisis decision: 422, and journaled like a conflict."""

    journaled = True


@dataclass(frozen=True, slots=True, kw_only=True)
class LifecycleRules:
    clock: ClockRules = field(default_factory=ClockRules)
    cod_max_age: timedelta = timedelta(hours=24)
    min_staffing: Mapping[str, int] = field(
        default_factory=lambda: {DutyRole.COMMUNICATION.value: 1, DutyRole.VALIDATOR.value: 1}
    )
    page_escalation: timedelta = timedelta(minutes=10)
    base_url: str = "http://127.0.0.1:8000"


def _require_status(crisis: Crisis, expected: CrisisStatus, *, step: str) -> None:
    if crisis.status == expected:
        return
    if crisis.status == CrisisStatus.CLOSED:
        raise Conflict("crisis_closed", "L'événement est clos.", {"status": crisis.status})
    current, wanted = ORDER.index(CrisisStatus(crisis.status)), ORDER.index(expected)
    if current > wanted:
        raise Conflict(
            "already_done",
            f"Déjà fait : {step} (état actuel : {crisis.status}).",
            {"status": crisis.status},
        )
    raise Conflict(
        "transition_out_of_order",
        f"Trop tôt pour {step} : l'étape précédente n'est pas franchie.",
        {"status": crisis.status, "required_status": expected.value},
    )


async def _locked(session: AsyncSession, crisis_id: int) -> Crisis:
    return await crises.get(session, crisis_id=crisis_id, for_update=True)


async def order_cell(
    session: AsyncSession, *, actor: Actor, crisis_id: int, rules: LifecycleRules, now: datetime
) -> Crisis:
    """Order the emergency communication cell: pages the on-call roster, starts ES47."""
    actor.require(Role.PREFECT, action="ordonner la cellule de communication")
    crisis = await _locked(session, crisis_id)
    _require_status(crisis, CrisisStatus.DECLARED, step="ordonner la cellule")
    assert crisis.id is not None
    crisis.status = CrisisStatus.CELL_ORDERED
    crisis.cell_ordered_at = now
    crisis.cell_ordered_by = actor.login
    session.add(crisis)
    await clocks.start(
        session, crisis_id=crisis.id, code=ClockCode.ES47, started_at=now, rules=rules.clock
    )
    await journal.append(
        session, actor=actor, action="cell.ordered", now=now, crisis_id=crisis.id, payload={}
    )
    found = await paging.targets(session, at=now, exercise=crisis.is_exercise)
    if found:
        await paging.page(
            session,
            crisis_id=crisis.id,
            crisis_title=crisis.title,
            exercise=crisis.is_exercise,
            page_targets=found,
            base_url=rules.base_url,
            now=now,
        )
    else:
        await journal.append(
            session,
            actor=actor,
            action="cell.nobody_on_duty",
            now=now,
            crisis_id=crisis.id,
            payload={"exercise": crisis.is_exercise},
        )
    return crisis


async def escalate(
    session: AsyncSession, *, crisis: Crisis, rules: LifecycleRules, now: datetime
) -> int:
    """Page the next level of each duty role that has not answered in time (leader tick)."""
    assert crisis.id is not None
    if crisis.status != CrisisStatus.CELL_ORDERED:
        return 0
    due = await paging.escalation_due(
        session, crisis_id=crisis.id, now=now, after=rules.page_escalation
    )
    if not due:
        return 0
    found = await paging.targets(
        session, at=now, exercise=crisis.is_exercise, roles=list(due), level_above=due
    )
    if not found:
        return 0
    await paging.page(
        session,
        crisis_id=crisis.id,
        crisis_title=crisis.title,
        exercise=crisis.is_exercise,
        page_targets=found,
        base_url=rules.base_url,
        now=now,
    )
    return len(found)


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


async def declare_operational(
    session: AsyncSession, *, actor: Actor, crisis_id: int, rules: LifecycleRules, now: datetime
) -> Crisis:
    """The cell is operational once the minimum staffing has answered; stops ES47."""
    actor.require(Role.PREFECT, Role.COMMUNICATOR, action="déclarer la cellule opérationnelle")
    crisis = await _locked(session, crisis_id)
    _require_status(crisis, CrisisStatus.CELL_ORDERED, step="déclarer la cellule opérationnelle")
    acks = await paging.acknowledgements(session, crisis_ids=[crisis_id])
    gaps = paging.staffing_gaps(acks, minimum=rules.min_staffing)
    if gaps:
        wanted = ", ".join(f"{n} × {DUTY_LABELS.get(r, r)}" for r, n in sorted(gaps.items()))
        raise Conflict(
            "minimum_staffing_not_met",
            f"Effectif minimal non atteint : il manque {wanted}.",
            {"missing": gaps},
        )
    crisis.status = CrisisStatus.CELL_OPERATIONAL
    crisis.cell_operational_at = now
    crisis.cell_operational_by = actor.login
    session.add(crisis)
    clock = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES47)
    if clock is not None:
        await clocks.meet(session, clock=clock, met_at=now)
    await journal.append(
        session,
        actor=actor,
        action="cell.operational",
        now=now,
        crisis_id=crisis_id,
        payload={"members": [{"role": a.duty_role, "name": a.name} for a in acks]},
    )
    return crisis


async def record_cod(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    activated_at: datetime | None,
    synergi_ref: str | None,
    decided_by: str | None,
    rules: LifecycleRules,
    now: datetime,
) -> Crisis:
    """Record the COD activation (decided at `activated_at`, maybe before); starts ES48."""
    actor.require(Role.PREFECT, action="enregistrer l'activation du COD")
    crisis = await _locked(session, crisis_id)
    _require_status(crisis, CrisisStatus.CELL_OPERATIONAL, step="enregistrer le COD")
    ref = " ".join((synergi_ref or "").split())
    who = " ".join((decided_by or "").split())
    if not ref:
        raise RefusedInput("synergi_ref_missing", "La référence SYNERGI est obligatoire.")
    if not SYNERGI_PATTERN.match(ref):
        raise RefusedInput("synergi_ref_invalid", f"Référence SYNERGI invalide : « {ref} ».")
    if not who:
        raise RefusedInput("decided_by_missing", "Indiquez qui a décidé l'activation du COD.")
    if activated_at is None or activated_at.utcoffset() is None:
        raise RefusedInput(
            "activated_at_invalid", "Indiquez l'heure de la décision, avec son fuseau horaire."
        )
    if activated_at > now:
        raise Conflict(
            "cod_in_future", "L'heure d'activation du COD ne peut pas être dans le futur."
        )
    if activated_at < now - rules.cod_max_age:
        hours = int(rules.cod_max_age.total_seconds() // 3600)
        raise Conflict(
            "cod_too_old",
            f"Heure d'activation invraisemblable : plus de {hours} heures avant maintenant.",
        )
    crisis.status = CrisisStatus.COD_ACTIVATED
    crisis.cod_activated_at = activated_at
    crisis.cod_synergi_ref = ref
    crisis.cod_decided_by = who[:200]
    crisis.cod_recorded_at = now
    crisis.cod_recorded_by = actor.login
    session.add(crisis)
    await clocks.start(
        session,
        crisis_id=crisis_id,
        code=ClockCode.ES48,
        started_at=activated_at,
        rules=rules.clock,
    )
    await journal.append(
        session,
        actor=actor,
        action="cod.activated",
        now=now,
        crisis_id=crisis_id,
        payload={"activated_at": activated_at.isoformat(), "synergi_ref": ref, "decided_by": who},
    )
    return crisis


async def close(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    now: datetime,
    summary: Mapping[str, Any] | None = None,
) -> Crisis:
    """Close the crisis; running clocks stop alerting. `summary` figures go to the journal."""
    actor.require(Role.PREFECT, action="clore l'événement")
    crisis = await _locked(session, crisis_id)
    if crisis.status == CrisisStatus.CLOSED:
        raise Conflict("crisis_already_closed", "L'événement est déjà clos.")
    crisis.status = CrisisStatus.CLOSED
    crisis.closed_at = now
    crisis.closed_by = actor.login
    session.add(crisis)
    await journal.append(
        session,
        actor=actor,
        action="crisis.closed",
        now=now,
        crisis_id=crisis_id,
        payload=dict(summary or {}),
    )
    return crisis
