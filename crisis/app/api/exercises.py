"""`/api/v1/exercises`: the trainers' programme of drills (ES49, CONTRACT §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app import idempotency
from crisis.app.actions import CallerDep
from crisis.app.api.exercise_injects import InjectIn, InjectResultView, InjectView
from crisis.app.api.schemas import Timestamp, returns
from crisis.app.api.schemas.requests import RequestModel, VisibleText
from crisis.app.auth import ClockDep, CurrentActor, DbDep
from crisis.app.library import playbook_library
from crisis.app.paths import RowId
from crisis.app.policies import launch_rules
from exercises import approval, asking, ending, injects, launching, programme, views
from exercises.programme import DrillKind, DrillRun, DrillSpec

router = APIRouter(prefix="/api/v1", tags=["exercices"])


class DrillIn(RequestModel):
    title: VisibleText = Field(min_length=3, max_length=200)
    kind: DrillKind
    playbook: str | None = Field(default=None, max_length=60)
    communes: list[str] = Field(default_factory=list, max_length=1000)
    starts_at: datetime | None = Field(
        default=None, description="Lancement unique (ISO 8601 avec fuseau), futur."
    )
    rrule: str | None = Field(
        default=None,
        max_length=500,
        description="Récurrence RFC 5545 en heure de Paris, ex. FREQ=MONTHLY;BYDAY=1TU;BYHOUR=9.",
    )
    first_at: datetime | None = Field(default=None, description="Début de la récurrence.")
    participants: list[int] = Field(default_factory=list, max_length=2000)
    injects: list[InjectIn] = Field(default_factory=list, max_length=200)
    confirm_first: bool = False


class StopIn(RequestModel):
    reason: str = Field(max_length=1000, description="Pourquoi l'exercice est arrêté.")


class CancelIn(RequestModel):
    reason: str = Field(
        default="", max_length=1000, description="Pourquoi la séance est annulée (facultatif)."
    )


class RunView(BaseModel):
    id: int
    crisis_id: int | None
    status: str
    status_label: str
    occurrence_at: Timestamp | None
    launched_at: Timestamp | None
    launched_by: str
    late: bool
    ended_at: Timestamp | None
    ended_by: str | None
    stop_reason: str | None


class DrillView(BaseModel):
    id: int
    title: str
    kind: str
    kind_label: str
    playbook: str | None
    communes: list[str]
    participants: list[int]
    starts_at: Timestamp | None
    rrule: str | None
    first_at: Timestamp | None
    next_run_at: Timestamp | None
    confirm_first: bool
    created_at: Timestamp
    created_by: str
    approved_by: str | None = Field(description="Le préfet qui a approuvé le test de joignabilité.")
    approved_at: Timestamp | None
    awaiting_approval: bool = Field(description="Test de joignabilité en attente d'approbation.")
    archived_at: Timestamp | None = Field(
        default=None, description="Archivé (retiré du programme après avoir eu des séances)."
    )
    archived_by: str | None = None
    running: bool
    runs: list[RunView]
    injects: list[InjectView] = Field(
        default_factory=list, description="Le scénario (exercice de crise ; lecture d'un exercice)."
    )


class DrillList(BaseModel):
    items: list[DrillView]


class LaunchView(BaseModel):
    run_id: int
    crisis_id: int | None
    run: RunView


class AnswerView(BaseModel):
    duty_role: str
    duty_role_label: str
    level: int
    name: str
    paged_at: Timestamp
    answered_at: Timestamp | None
    answer_seconds: int | None


class RoleFiguresView(BaseModel):
    duty_role: str
    duty_role_label: str
    paged: int
    answered: int
    median_seconds: int | None
    max_seconds: int | None


class ClockResultView(BaseModel):
    code: str
    status: str = Field(description="not_started, running, met, late ou overdue.")
    status_label: str
    started_at: Timestamp | None
    deadline: Timestamp | None
    met_at: Timestamp | None
    met_after_seconds: int | None
    late_by_seconds: int | None


class RatesView(BaseModel):
    deliveries: int
    delivered: int
    acknowledged: int
    delivery_rate: float | None = Field(description="Part des envois remis, en %.")
    acknowledgement_rate: float | None = Field(description="Part des envois acquittés, en %.")


class AudienceResultView(RatesView):
    audience: str
    audience_label: str
    failed: int
    first_published_at: Timestamp | None
    first_published_after_seconds: int | None
    first_delivered_at: Timestamp | None
    first_delivered_after_seconds: int | None


class TimelineLineView(BaseModel):
    at: Timestamp
    action: str
    action_label: str
    actor: str
    detail: str


class NotesView(BaseModel):
    text: str
    written_at: Timestamp
    written_by: str


class OfficialView(BaseModel):
    contact_id: int
    name: str


class AnsweredView(BaseModel):
    contact_id: int
    name: str
    answered_at: Timestamp | None = Field(description="Sa première réponse « OK ».")


class ReachabilityView(BaseModel):
    officials: int
    answered: int
    answered_people: list[AnsweredView] = Field(
        description="Ont répondu « OK » avant la fin de la séance."
    )
    unreachable: list[OfficialView] = Field(description="Tous les canaux ont échoué.")
    silent: list[OfficialView] = Field(description="Joints, sans réponse « OK ».")


class FeedbackAnswerView(BaseModel):
    answered_at: Timestamp | None
    rating: int | None = Field(description="De 1 (inutile) à 5 (très utile).")
    went_well: str = Field(description="Ce qui a bien fonctionné.")
    to_improve: str = Field(description="Ce qu'il faudrait améliorer.")


class FeedbackView(BaseModel):
    asked: int = Field(description="Participants invités à répondre (message de fin).")
    answered: int
    mean_rating: float | None
    answers: list[FeedbackAnswerView] = Field(description="Réponses, sans nom.")


class ReportView(BaseModel):
    drill_id: int
    title: str
    kind: str
    kind_label: str
    run: RunView
    generated_at: Timestamp
    clocks: list[ClockResultView]
    audiences: list[AudienceResultView]
    totals: RatesView
    answers: list[AnswerView]
    by_role: list[RoleFiguresView]
    timeline: list[TimelineLineView]
    timeline_limit: int
    notes: NotesView | None = Field(description="Les dernières notes du formateur.")
    reachability: ReachabilityView | None = Field(
        description="Test de joignabilité : élus injoignables sur tous leurs canaux, sans réponse."
    )
    injects: list[InjectResultView] = Field(description="Injects joués, à venir, et réactions.")
    injects_paused_at: Timestamp | None = Field(description="Injects suspendus depuis.")
    feedback: FeedbackView = Field(description="Le questionnaire de fin des participants.")


@router.post(
    "/exercises", status_code=201, summary="Programmer un exercice", **returns(DrillView, 409)
)
async def plan_drill(body: DrillIn, request: Request, caller: CallerDep, db: DbDep) -> JSONResponse:
    """Plans a drill; the response carries its `id` and `next_run_at`."""
    spec = DrillSpec(
        title=body.title,
        kind=body.kind,
        playbook=body.playbook,
        communes=body.communes,
        participants=body.participants,
        starts_at=body.starts_at,
        rrule=body.rrule,
        first_at=body.first_at,
        confirm_first=body.confirm_first,
    )

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        drill = await programme.create(
            session, actor=caller.actor, spec=spec, playbooks=playbook_library(), now=caller.now
        )
        assert drill.id is not None
        for inject in body.injects:
            await injects.add(
                session, actor=caller.actor, drill_id=drill.id, spec=inject.spec(), now=caller.now
            )
        return 201, await views.drill_detail(session, actor=caller.actor, drill_id=drill.id)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.get("/exercises", summary="Programme d'exercices", **returns(DrillList))
async def list_drills(actor: CurrentActor, db: DbDep) -> dict[str, Any]:
    async with db.read() as session:
        return {"items": await views.drills(session, actor=actor)}


@router.get("/exercises/{drill_id}", summary="Lire un exercice", **returns(DrillView, 404))
async def read_drill(drill_id: RowId, actor: CurrentActor, db: DbDep) -> dict[str, Any]:
    async with db.read() as session:
        return await views.drill_detail(session, actor=actor, drill_id=drill_id)


def _launched(run: DrillRun) -> dict[str, Any]:
    return {"id": run.id, "run_id": run.id, "crisis_id": run.crisis_id, "run": views.run_view(run)}


@router.post(
    "/exercises/{drill_id}/launch",
    status_code=201,
    summary="Lancer un exercice maintenant",
    **returns(LaunchView, 404, 409),
)
async def launch_drill(
    drill_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        run = await launching.launch_now(
            session,
            actor=caller.actor,
            drill_id=drill_id,
            rules=launch_rules(caller.settings),
            now=caller.now,
        )
        return 201, _launched(run)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/exercises/{drill_id}/runs/{run_id}/confirm",
    summary="Confirmer le lancement d'une séance qui attend le formateur",
    **returns(LaunchView, 404, 409),
)
async def confirm_run(
    drill_id: RowId, run_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        run = await launching.confirm(
            session,
            actor=caller.actor,
            drill_id=drill_id,
            run_id=run_id,
            rules=launch_rules(caller.settings),
            now=caller.now,
        )
        return 200, _launched(run)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/exercises/{drill_id}/runs/{run_id}/cancel",
    summary="Annuler une séance qui attend la confirmation du formateur",
    **returns(RunView, 404, 409),
)
async def cancel_run(
    drill_id: RowId, run_id: RowId, body: CancelIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    """Declines the run instead of confirming it: nothing is sent, the next occurrence stays."""

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        run = await asking.decline(
            session,
            actor=caller.actor,
            drill_id=drill_id,
            run_id=run_id,
            reason=body.reason,
            now=caller.now,
        )
        return 200, views.run_view(run)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/exercises/{drill_id}/approve",
    summary="Approuver un test de joignabilité (préfet)",
    **returns(DrillView, 404, 409),
)
async def approve_drill(
    drill_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        await approval.approve(session, actor=caller.actor, drill_id=drill_id, now=caller.now)
        return 200, await views.drill_detail(session, actor=caller.actor, drill_id=drill_id)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/exercises/{drill_id}/runs/{run_id}/stop",
    summary="STOP EXERCICE",
    **returns(RunView, 404, 409),
)
async def stop_run(
    drill_id: RowId, run_id: RowId, body: StopIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        run = await ending.stop(
            session,
            actor=caller.actor,
            drill_id=drill_id,
            run_id=run_id,
            reason=body.reason,
            rules=launch_rules(caller.settings),
            now=caller.now,
        )
        return 200, views.run_view(run)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.get(
    "/exercises/{drill_id}/runs/{run_id}/report",
    summary="Bilan d'une séance d'exercice",
    **returns(ReportView, 404),
)
async def run_report(
    drill_id: RowId, run_id: RowId, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> dict[str, Any]:
    async with db.read() as session:
        return await views.report(
            session, actor=actor, drill_id=drill_id, run_id=run_id, now=clock.now()
        )
