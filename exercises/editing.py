"""A trainer changes or removes a planned drill.

An edit is checked as a plan is (`programme.create`): the merged drill must pass the same
checks, and a new schedule the same rules (a past instant, a rule that never fires or fires
more than hourly: 422). While a run is under way, what the run uses (playbook, communes,
participants) cannot change, and the drill cannot be removed (409); a run awaiting the
trainer's confirmation must be confirmed or cancelled before the drill is removed. A drill
that has run is archived (its runs, reports and trends stay) rather than deleted. A
reachability test whose officials change waits for a prefect's approval again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor
from exercises.errors import DrillConflict, DrillRefused
from exercises.injects import Inject
from exercises.programme import (
    TRAINERS,
    Drill,
    DrillKind,
    DrillRun,
    DrillSpec,
    RunStatus,
    checked_parts,
    checked_title,
    get,
)
from exercises.schedule import checked_schedule
from playbooks import Playbook

__all__ = ["DrillChanges", "change", "remove"]

RUN_USES = ("playbook", "communes", "participants")


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillChanges:
    """What a trainer changes (none: unchanged). A schedule is given whole: `starts_at`, or
    `rrule` with its optional `first_at`."""

    title: str | None = None
    playbook: str | None = None
    communes: Sequence[str] | None = None
    participants: Sequence[int] | None = None
    starts_at: datetime | None = None
    rrule: str | None = None
    first_at: datetime | None = None
    confirm_first: bool | None = None

    @property
    def reschedules(self) -> bool:
        return self.starts_at is not None or self.rrule is not None or self.first_at is not None

    def named(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


async def _runs_by_status(session: AsyncSession, drill_id: int) -> dict[str, int]:
    query = (
        select(DrillRun.status, sa.func.count())
        .where(DrillRun.drill_id == drill_id)
        .group_by(DrillRun.status)
    )
    return {status: n for status, n in (await session.exec(query)).all()}


async def _editable(session: AsyncSession, *, actor: Actor, drill_id: int, doing: str) -> Drill:
    actor.require(*TRAINERS, action=doing)
    drill = await get(session, drill_id=drill_id, for_update=True)
    if drill.archived_at is not None:
        raise DrillConflict("drill_archived", "Cet exercice est archivé : il ne change plus.")
    return drill


def _merged(drill: Drill, changes: DrillChanges) -> DrillSpec:
    return DrillSpec(
        title=changes.title if changes.title is not None else drill.title,
        kind=DrillKind(drill.kind),
        playbook=changes.playbook if changes.playbook is not None else drill.playbook_key,
        communes=changes.communes if changes.communes is not None else drill.communes,
        participants=(
            changes.participants if changes.participants is not None else drill.participants
        ),
        starts_at=changes.starts_at,
        rrule=changes.rrule,
        first_at=changes.first_at,
        confirm_first=(
            changes.confirm_first if changes.confirm_first is not None else drill.confirm_first
        ),
    )


async def _refuse_while_running(
    session: AsyncSession, *, drill_id: int, named: Sequence[str]
) -> None:
    """409 when a run is under way and the change touches what the run uses."""
    running = (await _runs_by_status(session, drill_id)).get(RunStatus.RUNNING, 0)
    touched = [name for name in RUN_USES if name in named]
    if running and touched:
        raise DrillConflict(
            "drill_running",
            "Une séance est en cours : sa fiche réflexe, ses communes et ses participants ne "
            "peuvent pas changer avant sa fin.",
            {"fields": touched},
        )


async def change(
    session: AsyncSession,
    *,
    actor: Actor,
    drill_id: int,
    changes: DrillChanges,
    playbooks: Mapping[str, Playbook],
    now: datetime,
) -> Drill:
    """Apply `changes` to the drill; 422 on bad input, 409 while a run uses what changes."""
    drill = await _editable(session, actor=actor, drill_id=drill_id, doing="modifier un exercice")
    named = changes.named()
    if not named:
        raise DrillRefused("nothing_to_change", "Aucune modification demandée.")
    await _refuse_while_running(session, drill_id=drill_id, named=named)
    spec = _merged(drill, changes)
    title = checked_title(spec.title)
    playbook, codes, participants = await checked_parts(session, spec, playbooks)
    if changes.reschedules:
        schedule, first_run = checked_schedule(
            starts_at=spec.starts_at, rule=spec.rrule, first_at=spec.first_at, now=now
        )
        drill.starts_at, drill.rrule, drill.first_at = (
            schedule.starts_at,
            schedule.rule,
            schedule.first_at,
        )
        drill.next_run_at = first_run
    reached_before = set(drill.participants)
    drill.title, drill.playbook_key, drill.communes = title, playbook, codes
    drill.participants, drill.confirm_first = participants, spec.confirm_first
    approval_reset = (
        drill.kind == DrillKind.REACHABILITY
        and drill.approved_by is not None
        and set(participants) != reached_before
    )
    if approval_reset:
        drill.approved_by, drill.approved_at = None, None
    session.add(drill)
    await journal.append(
        session,
        actor=actor,
        action="exercise.changed",
        now=now,
        payload={
            "drill_id": drill.id,
            "title": title,
            "updated_keys": named,
            "next_run_at": drill.next_run_at.isoformat() if drill.next_run_at else None,
            "rrule": drill.rrule,
            "participants": len(participants),
            "approval_reset": approval_reset,
        },
    )
    return drill


async def remove(session: AsyncSession, *, actor: Actor, drill_id: int, now: datetime) -> str:
    """Delete the drill, or archive it when it has run; 409 while a run is going or awaits
    the trainer. Returns ``deleted`` or ``archived``."""
    drill = await _editable(session, actor=actor, drill_id=drill_id, doing="supprimer un exercice")
    runs = await _runs_by_status(session, drill_id)
    for status, code, text in (
        (RunStatus.RUNNING, "drill_running", "Une séance est en cours : arrêtez-la d'abord."),
        (
            RunStatus.AWAITING,
            "run_awaiting",
            "Une séance attend la confirmation du formateur : confirmez-la ou annulez-la d'abord.",
        ),
    ):
        if runs.get(status):
            raise DrillConflict(code, text)
    payload: dict[str, object] = {"drill_id": drill.id, "title": drill.title, "kind": drill.kind}
    if runs:
        drill.archived_at, drill.archived_by, drill.next_run_at = now, actor.login, None
        session.add(drill)
        action = "exercise.archived"
        payload["runs"] = sum(runs.values())
    else:
        await session.exec(sa.delete(Inject).where(col(Inject.drill_id) == drill_id))
        await session.delete(drill)
        action = "exercise.deleted"
    await journal.append(session, actor=actor, action=action, now=now, payload=payload)
    await session.flush()
    return "archived" if runs else "deleted"
