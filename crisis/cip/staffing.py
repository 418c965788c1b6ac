"""Who is in the CIP: people check in by shift, and out with a hand-over note.

An operator checks themselves in; the prefect may check in someone who holds the operator
role. The CIP opens only with its minimum staffing present (`gaps`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell.crises import RefusedInput
from crisis.cip import record
from crisis.cip.record import CipShift
from crisis.cip.vocabulary import CIP_ROLE_LABELS, CipRole
from crisis.errors import Conflict, NotFound
from crisis.users import User

HANDOVER_MAX = 4000


def gaps(present: Iterable[CipShift], *, minimum: Mapping[str, int]) -> dict[str, int]:
    """How many people each role still lacks to reach `minimum`."""
    counted = Counter(s.role for s in present)
    return {role: n - counted[role] for role, n in minimum.items() if counted[role] < n}


def gaps_sentence(missing: Mapping[str, int]) -> str:
    return ", ".join(f"{n} × {CIP_ROLE_LABELS.get(r, r)}" for r, n in sorted(missing.items()))


async def _person(session: AsyncSession, *, actor: Actor, user_id: int | None) -> User:
    """The user checking in: oneself, or (prefect only) an operator named by id."""
    wanted = user_id if user_id is not None else actor.user_id
    if wanted != actor.user_id:
        actor.require(Role.PREFECT, action="inscrire une autre personne à la CIP")
    else:
        actor.require(Role.OPERATOR, action="prendre son poste à la CIP")
    user = await session.get(User, wanted) if wanted is not None else None
    if user is None or not user.active:
        raise NotFound("user_not_found", f"Aucun utilisateur actif n° {wanted}.")
    if Role.OPERATOR not in user.roles:
        raise RefusedInput(
            "not_an_operator", f"{user.display_name or user.login} n'a pas le rôle d'opérateur CIP."
        )
    return user


async def check_in(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    role: str,
    now: datetime,
    user_id: int | None = None,
) -> CipShift:
    if role not in CIP_ROLE_LABELS:
        raise RefusedInput("unknown_cip_role", f"Rôle CIP inconnu : « {role[:40]} ».")
    user = await _person(session, actor=actor, user_id=user_id)
    cip = await record.required(session, crisis_id=crisis_id, lock=True)
    record.require_not_closed(cip)
    present = await record.shifts(session, crisis_id=crisis_id, present_only=True)
    if any(s.user_id == user.id for s in present):
        raise Conflict(
            "already_checked_in", f"{user.display_name or user.login} est déjà en poste à la CIP."
        )
    return await seat(session, actor=actor, crisis_id=crisis_id, user=user, role=role, now=now)


async def seat(
    session: AsyncSession, *, actor: Actor, crisis_id: int, user: User, role: str, now: datetime
) -> CipShift:
    """The check-in's row and journal entry, once the caller has checked who and when."""
    assert user.id is not None
    shift = CipShift(
        crisis_id=crisis_id,
        user_id=user.id,
        name=(user.display_name or user.login)[:200],
        role=CipRole(role),
        checked_in_at=now,
        checked_in_by=actor.login,
    )
    session.add(shift)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="cip.checked_in",
        now=now,
        crisis_id=crisis_id,
        payload={"shift": shift.id, "name": shift.name, "role": shift.role},
    )
    return shift


async def check_out(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    shift_id: int,
    handover_note: str | None,
    now: datetime,
) -> CipShift:
    """End one's shift (or, for the prefect, anyone's), leaving a note to the next shift."""
    shift = await session.get(CipShift, shift_id)
    if shift is None or shift.crisis_id != crisis_id:
        raise NotFound("shift_not_found", f"Aucune prise de poste n° {shift_id} à cette CIP.")
    if shift.user_id != actor.user_id:
        actor.require(Role.PREFECT, action="clore le poste d'une autre personne à la CIP")
    if shift.checked_out_at is not None:
        raise Conflict("already_checked_out", f"{shift.name} a déjà quitté son poste.")
    note = (handover_note or "").strip()
    if len(note) > HANDOVER_MAX:
        raise RefusedInput(
            "handover_note_too_long", f"Note de passation trop longue (> {HANDOVER_MAX})."
        )
    shift.checked_out_at = now
    shift.checked_out_by = actor.login
    shift.handover_note = note or None
    session.add(shift)
    await journal.append(
        session,
        actor=actor,
        action="cip.checked_out",
        now=now,
        crisis_id=crisis_id,
        payload={"shift": shift.id, "name": shift.name, "handover_note": shift.handover_note},
    )
    return shift


async def present_shift(session: AsyncSession, *, crisis_id: int, actor: Actor) -> CipShift | None:
    """The actor's shift in post at this CIP (one indexed row, not the whole staff)."""
    if actor.user_id is None:
        return None
    query = select(CipShift).where(
        CipShift.crisis_id == crisis_id,
        CipShift.user_id == actor.user_id,
        col(CipShift.checked_out_at).is_(None),
    )
    return (await session.exec(query)).first()
