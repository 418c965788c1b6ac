"""A reachability test reaches real officials: it waits for a prefect's approval.

A drill of that kind planned by a trainer stays « en attente d'approbation » until a prefect
approves it; nothing launches it before (by hand: 409; at its instant: the run is written
missed, its planner told). The approval is a second person's act: the prefect cannot approve a
test they planned themselves (four eyes), and approves once.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor, Role
from exercises.errors import DrillConflict, DrillRefused
from exercises.programme import Drill, DrillKind, get

__all__ = ["approve"]


async def approve(session: AsyncSession, *, actor: Actor, drill_id: int, now: datetime) -> Drill:
    """The prefect approves the reachability test `drill_id`; 422 for another kind, 409 when
    already approved or planned by the same person."""
    actor.require(Role.PREFECT, action="approuver un test de joignabilité")
    drill = await get(session, drill_id=drill_id, for_update=True)
    if drill.kind != DrillKind.REACHABILITY:
        raise DrillRefused(
            "approval_not_needed", "Seul un test de joignabilité demande l'approbation du préfet."
        )
    if drill.approved_by is not None:
        raise DrillConflict(
            "already_approved",
            f"Ce test de joignabilité a déjà été approuvé par {drill.approved_by}.",
        )
    if drill.created_by == actor.login:
        raise DrillConflict(
            "approval_by_planner",
            "Le test doit être approuvé par un autre préfet que la personne qui l'a programmé.",
        )
    drill.approved_by = actor.login
    drill.approved_at = now
    session.add(drill)
    await journal.append(
        session,
        actor=actor,
        action="exercise.approved",
        now=now,
        payload={"drill_id": drill.id, "title": drill.title, "officials": drill.participants},
    )
    return drill
