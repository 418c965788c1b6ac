"""The crisis decisions: an open crisis runs three independent tracks (`crisis.cell.tracks`).

The cell goes declared → ordered → operational, and `Crisis.status` follows that track until
the crisis is closed; the COD is recorded whenever the prefect decides it, whatever the cell's
state (it never moves `status`); the CIP comes later. Only a closed crisis refuses them all.

Each step checks the actor's roles and the crisis' state, changes the rows and appends to
the journal in the caller's transaction. A refusal raises `Conflict` (409) or
`RefusedInput` (422), both journaled by the web layer in their own transaction, while the
action's transaction rolls back: nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.roster import DUTY_LABELS, DutyRole
from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import checklist, clocks, crises, paging
from crisis.cell.clocks import ClockCode, ClockRules
from crisis.cell.crises import Crisis, RefusedInput
from crisis.cell.paging import PageTarget
from crisis.errors import Conflict
from crisis.vocabulary import CrisisMode, CrisisStatus

SYNERGI_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{2,59}$")
ORDER = list(CrisisStatus)

__all__ = [
    "LifecycleRules",
    "RefusedInput",
    "close",
    "declare_operational",
    "es48_unmet",
    "escalate",
    "order_cell",
    "record_cod",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class LifecycleRules:
    clock: ClockRules = field(default_factory=ClockRules)
    cod_max_age: timedelta = timedelta(hours=24)
    min_staffing: Mapping[str, int] = field(
        default_factory=lambda: {DutyRole.COMMUNICATION.value: 1, DutyRole.VALIDATOR.value: 1}
    )
    page_escalation: timedelta = timedelta(minutes=10)
    base_url: str = "http://127.0.0.1:8000"


def _require_open(crisis: Crisis) -> None:
    if not crisis.is_open:
        raise Conflict("crisis_closed", "L'événement est clos.", {"status": crisis.status})


def _require_status(crisis: Crisis, expected: CrisisStatus, *, step: str) -> None:
    """The cell track's order (declared → ordered → operational), on an open crisis."""
    _require_open(crisis)
    if crisis.status == expected:
        return
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


async def _page(
    session: AsyncSession,
    *,
    crisis: Crisis,
    found: Sequence[PageTarget],
    rules: LifecycleRules,
    now: datetime,
) -> None:
    await paging.page_crisis(
        session, crisis=crisis, page_targets=found, base_url=rules.base_url, now=now
    )


async def order_cell(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    rules: LifecycleRules,
    now: datetime,
    roster: Sequence[PageTarget] | None = None,
) -> Crisis:
    """Order the emergency communication cell: pages the on-call roster, starts ES47.

    `roster` names who is paged in place of the on-call roster's first level (an on-call
    test pages the real roster, its pages carried in the exercise lane)."""
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
    found = (
        list(roster)
        if roster is not None
        else await paging.targets(session, at=now, exercise=crisis.is_exercise)
    )
    if found:
        await _page(session, crisis=crisis, found=found, rules=rules, now=now)
    else:
        await journal.append(
            session,
            actor=actor,
            action="cell.nobody_on_duty",
            now=now,
            crisis_id=crisis.id,
            payload={CrisisMode.EXERCISE: crisis.is_exercise},
        )
    await checklist.system_saw(
        session, actor=actor, crisis_id=crisis.id, action="order_cell", at=now, now=now
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
    await _page(session, crisis=crisis, found=found, rules=rules, now=now)
    return len(found)


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
    await checklist.system_saw(
        session,
        actor=actor,
        crisis_id=crisis_id,
        action="declare_cell_operational",
        at=now,
        now=now,
    )
    return crisis


def _cod_decision(
    *,
    activated_at: datetime | None,
    synergi_ref: str | None,
    decided_by: str | None,
    rules: LifecycleRules,
    now: datetime,
) -> tuple[str, str, datetime]:
    """(SYNERGI reference, who decided, when), refused unless all three are plausible."""
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
    return ref, who, activated_at


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
    """Record the COD activation (decided at `activated_at`, maybe before); starts ES48.

    Independent of the cell: recorded before the cell is ordered or operational alike."""
    actor.require(Role.PREFECT, action="enregistrer l'activation du COD")
    crisis = await _locked(session, crisis_id)
    _require_open(crisis)
    if crisis.cod_activated_at is not None:
        raise Conflict(
            "already_done",
            f"L'activation du COD est déjà enregistrée (SYNERGI {crisis.cod_synergi_ref}).",
            {"activated_at": crisis.cod_activated_at.isoformat()},
        )
    ref, who, activated_at = _cod_decision(
        activated_at=activated_at,
        synergi_ref=synergi_ref,
        decided_by=decided_by,
        rules=rules,
        now=now,
    )
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
    await checklist.system_saw(
        session, actor=actor, crisis_id=crisis_id, action="activate_cod", at=activated_at, now=now
    )
    return crisis


def es48_unmet(summary: Mapping[str, Any] | None) -> bool:
    """Whether the summary figures show ES48 started (a COD) and not met yet."""
    clocks_seen = (summary or {}).get("clocks") or []
    return any(
        c.get("code") == ClockCode.ES48 and c.get("started_at") and not c.get("met_at")
        for c in clocks_seen
    )


async def close(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    now: datetime,
    summary: Mapping[str, Any] | None = None,
    unmet_confirmed: bool = True,
) -> Crisis:
    """Close the crisis; running clocks stop alerting. `summary` figures go to the journal.

    With ES48 started and not met, closing needs `unmet_confirmed` (the pages ask for it; an
    API call is taken as deliberate, as the contract has it)."""
    actor.require(Role.PREFECT, action="clore l'événement")
    crisis = await _locked(session, crisis_id)
    if crisis.status == CrisisStatus.CLOSED:
        raise Conflict("crisis_already_closed", "L'événement est déjà clos.")
    if not unmet_confirmed and es48_unmet(summary):
        raise RefusedInput(
            "es48_unmet_not_confirmed",
            "L'ES48 n'est pas tenu : tous les publics ne sont pas encore informés. "
            "Cochez la confirmation pour clore quand même.",
        )
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
