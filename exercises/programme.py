"""The trainers' programme: drills (what, for whom, when) and their runs (one row per launch).

A drill's ``next_run_at`` is the instant of its next scheduled launch (UTC), none once a
one-off drill has run or a rule has no occurrence left. A run is unique per drill and
occurrence: a scheduled launch inserts it in the transaction that launches, so no instant
ever launches twice (`exercises.launching`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from contacts.directory import Contact, ContactAudience
from crisis import journal
from crisis.actors import Actor, Role
from crisis.errors import NotFound
from crisis.text import visible_length
from exercises import reachability
from exercises.errors import DrillRefused
from exercises.schedule import Schedule, checked_schedule
from playbooks import Playbook
from storage.types import UTCDateTime

__all__ = [
    "Drill",
    "DrillKind",
    "DrillRun",
    "DrillSpec",
    "RunStatus",
    "checked_parts",
    "checked_title",
    "create",
    "get",
    "listing",
    "runs_of",
]

TRAINERS = (Role.TRAINER,)
READERS = (Role.TRAINER, Role.PREFECT)
MAX_PARTICIPANTS = 2000


class DrillKind(StrEnum):
    CRISIS = "crisis"
    ON_CALL = "on_call"
    REACHABILITY = "reachability"


KIND_LABELS: dict[str, str] = {
    DrillKind.CRISIS: "Exercice de crise",
    DrillKind.ON_CALL: "Test d'astreinte",
    DrillKind.REACHABILITY: "Test de joignabilité",
}


class RunStatus(StrEnum):
    RUNNING = "running"
    ENDED = "ended"
    STOPPED = "stopped"  # STOP EXERCICE: ended at once, pending deliveries cancelled
    MISSED = "missed"  # the service was down past the window, or a run was still going
    AWAITING = "awaiting"  # confirm_first: its instant came, the trainer has to confirm
    CANCELLED = "cancelled"  # confirm_first: the trainer declined it; nothing was sent


RUN_LABELS: dict[str, str] = {
    RunStatus.RUNNING: "En cours",
    RunStatus.ENDED: "Terminé",
    RunStatus.STOPPED: "Arrêté (STOP EXERCICE)",
    RunStatus.MISSED: "Manqué",
    RunStatus.AWAITING: "En attente de la confirmation du formateur",
    RunStatus.CANCELLED: "Annulé par le formateur",
}


class Drill(SQLModel, table=True):
    __tablename__ = "exercise_drill"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    playbook_key: str | None = Field(default=None, max_length=60)
    communes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    participants: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rrule: str | None = Field(default=None, max_length=500)
    first_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    confirm_first: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    approved_by: str | None = Field(default=None, max_length=64)  # reachability: the prefect
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Removed by a trainer after it ran: kept for its reports and trends, never launched again.
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    archived_by: str | None = Field(default=None, max_length=64)

    @property
    def awaiting_approval(self) -> bool:
        return self.kind == DrillKind.REACHABILITY and self.approved_by is None

    @property
    def schedule(self) -> Schedule:
        return Schedule(starts_at=self.starts_at, rule=self.rrule, first_at=self.first_at)


class DrillRun(SQLModel, table=True):
    __tablename__ = "exercise_run"
    __table_args__ = (sa.UniqueConstraint("drill_id", "occurrence_at"),)

    id: int | None = Field(default=None, primary_key=True)
    drill_id: int = Field(foreign_key="exercise_drill.id", index=True)
    occurrence_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # none: by hand
    status: str = Field(max_length=20)
    crisis_id: int | None = Field(default=None, foreign_key="crisis.id", index=True)
    launched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    launched_by: str = Field(max_length=64)
    late: bool = False
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_by: str | None = Field(default=None, max_length=64)
    stop_reason: str | None = Field(default=None, max_length=1000)
    reach_messages: list[int] | None = Field(default=None, sa_type=sa.JSON)  # reachability
    injects_paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    injects_paused_seconds: int = 0  # the injects' offsets shift by the time paused


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillSpec:
    """What a trainer plans (the API's body, checked by `create`)."""

    title: str
    kind: DrillKind
    playbook: str | None = None
    communes: Sequence[str] = ()
    participants: Sequence[int] = ()
    starts_at: datetime | None = None
    rrule: str | None = None
    first_at: datetime | None = None
    confirm_first: bool = False


async def _exercise_participants(session: AsyncSession, ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    if len(wanted) > MAX_PARTICIPANTS:
        raise DrillRefused("too_many_participants", "Trop de participants pour un exercice.")
    query = select(Contact.id).where(
        col(Contact.id).in_(wanted),
        Contact.audience == ContactAudience.EXERCISE,
        col(Contact.active),
    )
    allowed = set((await session.exec(query)).all())
    refused = [i for i in wanted if i not in allowed]
    if refused:
        raise DrillRefused(
            "participant_not_exercise",
            "Seuls des contacts actifs du public « Participants aux exercices » peuvent "
            "participer à un exercice.",
            {"refused": refused},
        )
    return wanted


async def _checked_crisis_parts(
    session: AsyncSession, spec: DrillSpec, playbooks: Mapping[str, Playbook]
) -> tuple[str, list[str], list[int]]:
    if not spec.playbook or spec.playbook not in playbooks:
        raise DrillRefused(
            "unknown_playbook", f"Fiche réflexe inconnue : « {spec.playbook or ''} »."
        )
    codes = list(dict.fromkeys(spec.communes))
    if not codes:
        raise DrillRefused("no_commune", "Indiquez au moins une commune de l'exercice.")
    unknown = await geography.unknown_communes(session, codes=codes)
    if unknown:
        raise DrillRefused(
            "unknown_communes", "Codes INSEE inconnus : " + ", ".join(unknown) + ".", unknown
        )
    participants = await _exercise_participants(session, spec.participants)
    if not participants:
        raise DrillRefused(
            "no_exercise_participant",
            "Un exercice de crise a besoin d'au moins un participant aux exercices.",
        )
    return spec.playbook, codes, participants


def checked_title(text: str) -> str:
    title = " ".join(text.split())
    if visible_length(title) < 3:
        raise DrillRefused("invalid_title", "Le titre doit compter au moins 3 caractères.")
    return title


async def checked_parts(
    session: AsyncSession, spec: DrillSpec, playbooks: Mapping[str, Playbook]
) -> tuple[str | None, list[str], list[int]]:
    """The spec's playbook, communes and participants as its kind allows them (422 otherwise)."""
    if spec.kind == DrillKind.CRISIS:
        return await _checked_crisis_parts(session, spec, playbooks)
    if spec.kind == DrillKind.REACHABILITY:
        return None, [], sorted(await reachability.checked_officials(session, spec.participants))
    return None, [], await _exercise_participants(session, spec.participants)


async def create(
    session: AsyncSession,
    *,
    actor: Actor,
    spec: DrillSpec,
    playbooks: Mapping[str, Playbook],
    now: datetime,
) -> Drill:
    """Plan a drill; refused (422, nothing written) on a bad schedule or bad participants."""
    actor.require(*TRAINERS, action="programmer un exercice")
    title = checked_title(spec.title)
    playbook, codes, participants = await checked_parts(session, spec, playbooks)
    schedule, first_run = checked_schedule(
        starts_at=spec.starts_at, rule=spec.rrule, first_at=spec.first_at, now=now
    )
    drill = Drill(
        title=title,
        kind=spec.kind.value,
        playbook_key=playbook,
        communes=codes,
        participants=participants,
        starts_at=schedule.starts_at,
        rrule=schedule.rule,
        first_at=schedule.first_at,
        next_run_at=first_run,
        confirm_first=spec.confirm_first,
        created_at=now,
        created_by=actor.login,
    )
    session.add(drill)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="exercise.planned",
        now=now,
        payload={
            "drill_id": drill.id,
            "title": title,
            "kind": drill.kind,
            "next_run_at": first_run.isoformat(),
            "rrule": drill.rrule,
            "participants": len(participants),
        },
    )
    return drill


async def get(session: AsyncSession, *, drill_id: int, for_update: bool = False) -> Drill:
    query = select(Drill).where(Drill.id == drill_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = (await session.exec(query)).first()
    if found is None:
        raise NotFound("drill_not_found", f"Aucun exercice n° {drill_id}.")
    return found


async def listing(session: AsyncSession) -> list[Drill]:
    """The programme: every drill but the archived ones."""
    query = select(Drill).where(col(Drill.archived_at).is_(None))
    query = query.order_by(col(Drill.next_run_at).is_(None), col(Drill.next_run_at))
    return list((await session.exec(query.order_by(col(Drill.id)))).all())


async def runs_of(session: AsyncSession, *, drill_ids: Sequence[int]) -> dict[int, list[DrillRun]]:
    """Each drill's runs, the latest first."""
    if not drill_ids:
        return {}
    query = (
        select(DrillRun)
        .where(col(DrillRun.drill_id).in_(list(drill_ids)))
        .order_by(col(DrillRun.id).desc())
    )
    found: dict[int, list[DrillRun]] = {i: [] for i in drill_ids}
    for run in (await session.exec(query)).all():
        found[run.drill_id].append(run)
    return found


async def run(session: AsyncSession, *, drill_id: int, run_id: int) -> DrillRun:
    query = select(DrillRun).where(DrillRun.id == run_id, DrillRun.drill_id == drill_id)
    found = (await session.exec(query.with_for_update())).first()
    if found is None:
        raise NotFound("run_not_found", f"Aucune séance n° {run_id} pour cet exercice.")
    return found


async def journal_launch(
    session: AsyncSession,
    *,
    actor: Actor,
    drill: Drill,
    run: DrillRun,
    now: datetime,
    **more: object,
) -> None:
    """`exercise.launched`, for every kind (`more`: the kind's own figures)."""
    occurrence = run.occurrence_at
    await journal.append(
        session,
        actor=actor,
        action="exercise.launched",
        now=now,
        crisis_id=run.crisis_id,
        payload={
            "drill_id": drill.id,
            "run_id": run.id,
            "kind": drill.kind,
            "occurrence_at": occurrence.isoformat() if occurrence else None,
            "late": run.late,
            **more,
        },
    )
