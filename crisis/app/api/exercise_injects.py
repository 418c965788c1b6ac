"""`/api/v1/exercises/{id}/injects`: a crisis drill's scenario, and its injects in a run
(released by hand, reaction marked done, paused and resumed). Issue 19, item 6."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app import idempotency
from crisis.app.actions import Caller, CallerDep
from crisis.app.api.schemas import Timestamp, returns
from crisis.app.api.schemas.requests import RequestModel
from crisis.app.auth import CurrentActor, DbDep
from crisis.app.inject_steps import InjectVerb, RunRefDep, RunVerb, inject_step, run_step
from crisis.app.paths import RowId
from exercises import inject_reactions, inject_views, injects, programme
from exercises.injects import InjectSpec

router = APIRouter(prefix="/api/v1/exercises/{drill_id}", tags=["exercices"])


class InjectIn(RequestModel):
    offset_min: int = Field(ge=0, le=24 * 60, description="Minutes après le début de la séance.")
    audience: str | None = Field(
        default=None, max_length=20, description="Public joué : officials, media, public, staff."
    )
    contact: int | None = Field(default=None, description="Ou un participant nommé.")
    channel: str | None = Field(default=None, max_length=20, description="email, sms, telegram.")
    text: str = Field(max_length=2000)
    expected_action: str | None = Field(default=None, max_length=500)
    expected_kind: str | None = Field(
        default=None,
        max_length=40,
        description="first_officials_bulletin : faite quand un communiqué aux élus est publié.",
    )
    deadline_min: int | None = Field(default=None, description="Délai de réaction, en minutes.")

    def spec(self) -> InjectSpec:
        return InjectSpec(**self.model_dump())


class InjectView(BaseModel):
    id: int
    offset_min: int
    audience: str | None
    contact: int | None
    target_label: str
    channel: str | None
    text: str
    expected_action: str | None
    expected_kind: str | None
    deadline_min: int | None


class InjectList(BaseModel):
    items: list[InjectView]


class InjectResultView(BaseModel):
    inject_id: int
    offset_min: int
    target: str
    text: str
    expected_action: str | None
    deadline_min: int | None
    played_at: Timestamp | None
    released_by: str | None = Field(description="Déclenché à la main par ; vide : à son heure.")
    deliveries: int
    deadline: Timestamp | None
    done_at: Timestamp | None
    done_by: str | None
    due_at: Timestamp | None = Field(description="Séance en cours : quand il sera joué.")
    reaction: str = Field(
        description="done, late, overdue, waiting, not_done, none, upcoming ou not_played."
    )
    reaction_label: str


class PauseView(BaseModel):
    run_id: int
    injects_paused_at: Timestamp | None
    injects_paused_seconds: int


async def _answer(
    request: Request,
    db: DbDep,
    caller: Caller,
    action: Callable[[AsyncSession], Awaitable[tuple[int, dict[str, Any]]]],
) -> JSONResponse:
    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.get("/injects", summary="Scénario d'un exercice (injects)", **returns(InjectList, 404))
async def list_injects(drill_id: RowId, actor: CurrentActor, db: DbDep) -> dict[str, Any]:
    actor.require(*programme.READERS, action="consulter le scénario d'un exercice")
    async with db.read() as session:
        drill = await programme.get(session, drill_id=drill_id)
        return {"items": await inject_views.of_drill(session, drill)}


@router.post(
    "/injects", status_code=201, summary="Ajouter un inject", **returns(InjectView, 404, 409)
)
async def add_inject(
    drill_id: RowId, body: InjectIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        inject = await injects.add(
            session, actor=caller.actor, drill_id=drill_id, spec=body.spec(), now=caller.now
        )
        return 201, await inject_views.one(session, inject)

    return await _answer(request, db, caller, action)


@router.put("/injects/{inject_id}", summary="Modifier un inject", **returns(InjectView, 404, 409))
async def change_inject(
    drill_id: RowId,
    inject_id: RowId,
    body: InjectIn,
    request: Request,
    caller: CallerDep,
    db: DbDep,
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        inject = await injects.change(
            session,
            actor=caller.actor,
            drill_id=drill_id,
            inject_id=inject_id,
            spec=body.spec(),
            now=caller.now,
        )
        return 200, await inject_views.one(session, inject)

    return await _answer(request, db, caller, action)


@router.delete(
    "/injects/{inject_id}", summary="Supprimer un inject", **returns(InjectView, 404, 409)
)
async def remove_inject(
    drill_id: RowId, inject_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        inject = await injects.remove(
            session, actor=caller.actor, drill_id=drill_id, inject_id=inject_id, now=caller.now
        )
        return 200, await inject_views.one(session, inject)

    return await _answer(request, db, caller, action)


def _inject_route(verb: InjectVerb) -> Callable[..., Awaitable[JSONResponse]]:
    async def route(
        inject_id: RowId, run: RunRefDep, request: Request, caller: CallerDep, db: DbDep
    ) -> JSONResponse:
        step = inject_step(caller, verb, run, inject_id)

        async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
            view = inject_reactions.play_view(await step(session), now=caller.now, running=True)
            return 200, view | {"due_at": None}

        return await _answer(request, db, caller, action)

    return route


def _pause_view(run: programme.DrillRun) -> dict[str, Any]:
    paused = run.injects_paused_at
    return {
        "run_id": run.id,
        "injects_paused_at": paused.isoformat() if paused else None,
        "injects_paused_seconds": run.injects_paused_seconds,
    }


def _run_route(verb: RunVerb) -> Callable[..., Awaitable[JSONResponse]]:
    async def route(run: RunRefDep, request: Request, caller: CallerDep, db: DbDep) -> JSONResponse:
        step = run_step(caller, verb, run)

        async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
            return 200, _pause_view(await step(session))

        return await _answer(request, db, caller, action)

    return route


SUMMARIES = {
    "release_inject": "Déclencher un inject maintenant",
    "mark_inject_done": "Noter l'action attendue comme faite",
    "pause_injects": "Suspendre les injects d'une séance",
    "resume_injects": "Reprendre les injects d'une séance",
}


def _post(
    path: str, endpoint: Callable[..., Awaitable[JSONResponse]], name: str, model: type
) -> None:
    router.add_api_route(
        f"/runs/{{run_id}}/injects/{path}",
        endpoint,
        methods=["POST"],
        name=name,
        summary=SUMMARIES[name],
        **returns(model, 404, 409),
    )


_post("{inject_id}/release", _inject_route("release"), "release_inject", InjectResultView)
_post("{inject_id}/done", _inject_route("done"), "mark_inject_done", InjectResultView)
_post("pause", _run_route("pause"), "pause_injects", PauseView)
_post("resume", _run_route("resume"), "resume_injects", PauseView)
