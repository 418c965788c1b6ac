"""The crisis lifecycle routes: cell, acknowledgements, COD, clocks, checklist, close."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import privacy
from crisis.app import actions, checkpointing, idempotency
from crisis.app.actions import Caller, CallerDep
from crisis.app.api.crises import crisis_with_clocks
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.crises import (
    AcknowledgementView,
    ChecklistEntryView,
    ClockView,
    ClosedCrisisView,
    CrisisView,
)
from crisis.app.api.schemas.requests import RequestModel
from crisis.app.auth import ClockDep, CurrentActor, DbDep
from crisis.app.paths import RowId, RowRef
from crisis.cell import acknowledgements, checklist, crises, overview
from crisis.cell.clocks import state_view
from crisis.cell.crises import Crisis

router = APIRouter(prefix="/api/v1", tags=["événements"])


class AcknowledgementIn(RequestModel):
    user: RowRef | None = Field(
        default=None,
        description="Utilisateur qui répond (défaut : soi ; un autre : cabinet seulement).",
    )
    contact: RowRef | None = Field(
        default=None, description="Contact d'astreinte joint par téléphone (cabinet seulement)."
    )
    role: str = Field(description="Rôle d'astreinte : communication, validator, prefect.")


class CodIn(RequestModel):
    activated_at: datetime | None = Field(
        default=None, description="Heure de la décision (ISO 8601 avec fuseau), passée."
    )
    synergi_ref: str | None = Field(default=None, max_length=200)
    decided_by: str | None = Field(default=None, max_length=300)


async def _answer_crisis(
    request: Request,
    db: DbDep,
    caller: Caller,
    step: Callable[[AsyncSession], Awaitable[Crisis]],
) -> JSONResponse:
    """Run one lifecycle step (idempotently) and answer with the crisis and its clocks."""

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        crisis = await step(session)
        return 200, await crisis_with_clocks(session, crisis, caller.now, viewer=caller.actor)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/crises/{crisis_id}/cell/activate",
    summary="Ordonner la cellule (ES47)",
    **returns(CrisisView, 404, 409),
)
async def activate_cell(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    return await _answer_crisis(
        request, db, caller, lambda s: actions.cell(s, caller, crisis_id, operational=False)
    )


@router.post(
    "/crises/{crisis_id}/cell/acknowledgements",
    status_code=201,
    summary="Répondre à l'appel de la cellule",
    **returns(AcknowledgementView, 404, 409),
)
async def acknowledge(
    crisis_id: RowId,
    body: AcknowledgementIn,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
) -> JSONResponse:
    """For oneself by default; the cabinet may record a call answered by phone for someone."""
    now = clock.now()
    user_id = body.user if body.user is not None or body.contact is not None else actor.user_id

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        ack = await acknowledgements.acknowledge(
            session,
            actor=actor,
            crisis_id=crisis_id,
            duty_role=body.role,
            now=now,
            contact_id=body.contact,
            user_id=user_id,
        )
        return 201, {
            "id": ack.id,
            "crisis_id": crisis_id,
            "role": ack.duty_role,
            "person": ack.person,
            "name": ack.name,
            "at": ack.at.isoformat(),
            "via": ack.via,
            "recorded_by": ack.recorded_by,
            "on_behalf": ack.on_behalf,
            "note": acknowledgements.recorded_note(ack),
        }

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.post(
    "/crises/{crisis_id}/cell/operational",
    summary="Déclarer la cellule opérationnelle",
    **returns(CrisisView, 404, 409),
)
async def cell_operational(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    return await _answer_crisis(
        request, db, caller, lambda s: actions.cell(s, caller, crisis_id, operational=True)
    )


@router.post(
    "/crises/{crisis_id}/cod",
    summary="Enregistrer l'activation du COD (ES48)",
    **returns(CrisisView, 404, 409),
)
async def record_cod(
    crisis_id: RowId, body: CodIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    return await _answer_crisis(
        request,
        db,
        caller,
        lambda s: actions.record_cod(s, caller, crisis_id, **body.model_dump()),
    )


@router.get(
    "/crises/{crisis_id}/clocks",
    summary="Horloges ES47, ES48 (et ES50)",
    **returns(list[ClockView], 404),
)
async def crisis_clocks(
    crisis_id: RowId, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> list[dict[str, Any]]:
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        states = await overview.clock_states(  # the API: every missing name
            session, crises=[crisis], now=clock.now(), missing_shown=None
        )
    personal = privacy.sees_personal_data(actor)
    return [state_view(s, personal=personal) for s in states.get(crisis_id, [])]


@router.post(
    "/crises/{crisis_id}/close",
    summary="Clore l'événement et produire son bilan",
    **returns(ClosedCrisisView, 404, 409),
)
async def close_crisis(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        crisis, figures = await actions.close(session, caller, crisis_id)
        view = await crisis_with_clocks(session, crisis, caller.now, viewer=caller.actor)
        return 200, view | {"summary_url": f"/evenements/{crisis_id}/bilan", "summary": figures}

    response = await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)
    await checkpointing.after_close(db, caller.settings, now=caller.now)
    return response


@router.post(
    "/crises/{crisis_id}/checklist/{item}/done",
    summary="Cocher une étape",
    **returns(ChecklistEntryView, 404, 409),
)
@router.delete(
    "/crises/{crisis_id}/checklist/{item}/done",
    summary="Décocher une étape",
    **returns(ChecklistEntryView, 404, 409),
)
async def mark_item(
    crisis_id: RowId, item: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    done = request.method == "POST"

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        entry = await actions.mark_item(session, caller, crisis_id, position=item, done=done)
        return 200, checklist.entry_view(entry)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)
