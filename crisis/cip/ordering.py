"""The prefect orders the CIP with its single number (ES50 starts), the CIP is declared open
once its minimum staffing is present (ES50 is met), and the prefect closes it.

Independent of the cell and the COD: a CIP is ordered on any open crisis. Each refusal
raises `Conflict` (409) or `RefusedInput` (422), journaled by the web layer while the
action's transaction rolls back."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import clocks, crises
from crisis.cell.clocks import ClockCode
from crisis.cell.crises import RefusedInput
from crisis.cip import numbers, pager, record, staffing
from crisis.cip.record import Cip
from crisis.cip.rules import CipRules
from crisis.cip.vocabulary import CipRole
from crisis.errors import Conflict


def _opening(expected: datetime | None, *, rules: CipRules, now: datetime) -> datetime | None:
    if expected is None:
        return None
    if expected.utcoffset() is None:
        raise RefusedInput(
            "expected_opening_invalid", "Indiquez l'heure d'ouverture prévue avec son fuseau."
        )
    if expected < now - rules.clock_skew or expected > now + rules.max_opening_delay:
        raise RefusedInput(
            "expected_opening_invalid",
            "L'ouverture prévue doit être entre maintenant et les prochaines 24 heures.",
        )
    return expected


async def order(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    number: str | None,
    decided_by: str | None,
    expected_opening_at: datetime | None,
    rules: CipRules,
    now: datetime,
) -> Cip:
    """Order the CIP with its number; starts ES50."""
    actor.require(Role.PREFECT, action="ordonner la CIP")
    crisis = await crises.get(session, crisis_id=crisis_id, for_update=True)
    if not crisis.is_open:
        raise Conflict("crisis_closed", "L'événement est clos.")
    existing = await record.find(session, crisis_id=crisis_id)
    if existing is not None:
        raise Conflict(
            "cip_already_ordered",
            f"La CIP est déjà ordonnée (numéro {numbers.shown(existing.number)}).",
            {"ordered_at": existing.ordered_at.isoformat()},
        )
    e164 = numbers.french_number(number, code="number", what="le numéro unique de la CIP")
    who = " ".join((decided_by or "").split()) or actor.login
    cip = Cip(
        crisis_id=crisis_id,
        number=e164,
        ordered_at=now,
        ordered_by=actor.login,
        decided_by=who[:200],
        expected_opening_at=_opening(expected_opening_at, rules=rules, now=now),
    )
    session.add(cip)
    await session.flush()
    await clocks.start(
        session, crisis_id=crisis_id, code=ClockCode.ES50, started_at=now, rules=rules.clock
    )
    await journal.append(
        session,
        actor=actor,
        action="cip.ordered",
        now=now,
        crisis_id=crisis_id,
        payload={
            "number": numbers.shown(e164),
            "decided_by": cip.decided_by,
            "expected_opening_at": cip.expected_opening_at.isoformat()
            if cip.expected_opening_at
            else None,
        },
    )
    await pager.page_on_order(session, crisis=crisis, rules=rules, now=now, actor=actor)
    return cip


async def declare_open(
    session: AsyncSession, *, actor: Actor, crisis_id: int, rules: CipRules, now: datetime
) -> Cip:
    """Open the CIP once its minimum staffing is checked in; stops ES50."""
    cip = await record.required(session, crisis_id=crisis_id, lock=True)
    present = await record.shifts(session, crisis_id=crisis_id, present_only=True)
    heads = {s.user_id for s in present if s.role == CipRole.HEAD}
    if actor.user_id not in heads:
        actor.require(Role.PREFECT, action="déclarer la CIP ouverte (préfet ou chef de cellule)")
    record.require_not_closed(cip)
    if cip.opened_at is not None:
        raise Conflict("cip_already_open", "La CIP est déjà ouverte.")
    missing = staffing.gaps(present, minimum=rules.min_staffing)
    if missing:
        raise Conflict(
            "minimum_staffing_not_met",
            f"Effectif minimal non atteint : il manque {staffing.gaps_sentence(missing)}.",
            {"missing": missing},
        )
    cip.opened_at = now
    cip.opened_by = actor.login
    session.add(cip)
    clock = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES50)
    if clock is not None:
        await clocks.meet(session, clock=clock, met_at=now)
    await journal.append(
        session,
        actor=actor,
        action="cip.opened",
        now=now,
        crisis_id=crisis_id,
        payload={"present": [{"name": s.name, "role": s.role} for s in present]},
    )
    return cip


async def close(session: AsyncSession, *, actor: Actor, crisis_id: int, now: datetime) -> Cip:
    """Close the CIP: no more calls; whoever is still in post is checked out."""
    actor.require(Role.PREFECT, action="fermer la CIP")
    cip = await record.required(session, crisis_id=crisis_id, lock=True)
    record.require_not_closed(cip)
    cip.closed_at = now
    cip.closed_by = actor.login
    session.add(cip)
    present = await record.shifts(session, crisis_id=crisis_id, present_only=True)
    for shift in present:
        shift.checked_out_at = now
        shift.checked_out_by = actor.login
        session.add(shift)
    await journal.append(
        session,
        actor=actor,
        action="cip.closed",
        now=now,
        crisis_id=crisis_id,
        payload={"checked_out": [s.name for s in present]},
    )
    return cip
