"""`PATCH` / `DELETE /api/v1/exercises/{id}`: a trainer changes or removes a planned drill
(issue 19). A drill that has run is archived rather than deleted. `POST
/api/v1/exercises/{id}/injects/scenario`: the drill takes its playbook's ready-made scenario."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app import idempotency
from crisis.app.actions import CallerDep
from crisis.app.api.exercise_injects import InjectList
from crisis.app.api.exercises import DrillView
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.requests import RequestModel, VisibleText
from crisis.app.auth import DbDep
from crisis.app.library import playbook_library
from crisis.app.paths import RowId
from exercises import editing, inject_views, programme, scenarios, views
from exercises.editing import DrillChanges

router = APIRouter(prefix="/api/v1", tags=["exercices"])

REMOVED_LABELS = {
    "deleted": "Exercice supprimé.",
    "archived": "Exercice archivé : ses séances et leurs bilans restent consultables.",
}


class DrillPatchIn(RequestModel):
    """Only the fields given change. A new schedule is given whole: `starts_at`, or `rrule`
    (with `first_at` if wanted)."""

    title: VisibleText | None = Field(default=None, min_length=3, max_length=200)
    playbook: str | None = Field(default=None, max_length=60)
    communes: list[str] | None = Field(default=None, max_length=1000)
    participants: list[int] | None = Field(default=None, max_length=2000)
    starts_at: datetime | None = Field(default=None, description="Nouveau lancement unique.")
    rrule: str | None = Field(default=None, max_length=500, description="Nouvelle récurrence.")
    first_at: datetime | None = Field(default=None, description="Début de la récurrence.")
    confirm_first: bool | None = None

    def changes(self) -> DrillChanges:
        return DrillChanges(**self.model_dump(exclude_unset=True))


class RemovedView(BaseModel):
    id: int
    outcome: Literal["deleted", "archived"]
    outcome_label: str


@router.patch(
    "/exercises/{drill_id}",
    summary="Modifier un exercice programmé",
    **returns(DrillView, 404, 409),
)
async def change_drill(
    drill_id: RowId, body: DrillPatchIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    """422 on a bad change (as at planning), 409 while a run uses what changes or when the
    drill is archived; a reachability test whose officials change awaits approval again."""

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        await editing.change(
            session,
            actor=caller.actor,
            drill_id=drill_id,
            changes=body.changes(),
            playbooks=playbook_library(),
            now=caller.now,
        )
        return 200, await views.drill_detail(session, actor=caller.actor, drill_id=drill_id)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.delete(
    "/exercises/{drill_id}",
    summary="Supprimer (ou archiver) un exercice",
    **returns(RemovedView, 404, 409),
)
async def remove_drill(
    drill_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    """Deleted when it never ran, archived (kept for its reports and trends) when it did;
    409 while a run is going or awaits the trainer's confirmation."""

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        outcome = await editing.remove(
            session, actor=caller.actor, drill_id=drill_id, now=caller.now
        )
        return 200, {"id": drill_id, "outcome": outcome, "outcome_label": REMOVED_LABELS[outcome]}

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/exercises/{drill_id}/injects/scenario",
    status_code=201,
    summary="Reprendre le scénario de la fiche réflexe",
    **returns(InjectList, 404, 409),
)
async def take_scenario(
    drill_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    """The playbook's ready-made injects become the drill's scenario (422 when the playbook
    has none, 409 when the drill already has injects or a run is going)."""

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        await scenarios.take(
            session,
            actor=caller.actor,
            drill_id=drill_id,
            playbooks=playbook_library(),
            now=caller.now,
        )
        drill = await programme.get(session, drill_id=drill_id)
        return 201, {"items": await inject_views.of_drill(session, drill)}

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)
