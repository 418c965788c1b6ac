"""The crisis lifecycle routes: cell, acknowledgements, COD, clocks, checklist, close."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import summary
from crisis.accounts import User
from crisis.app import idempotency
from crisis.app.api.crises import crisis_with_clocks
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.crises import (
    AcknowledgementView,
    ChecklistEntryView,
    ClockView,
    ClosedCrisisView,
    CrisisView,
)
from crisis.app.auth import ClockDep, CurrentActor, DbDep, SettingsDep
from crisis.app.policies import lifecycle_rules
from crisis.cell import checklist, crises, lifecycle, overview
from crisis.cell.clocks import state_view

router = APIRouter(prefix="/api/v1", tags=["événements"])


class AcknowledgementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: int | None = Field(default=None, description="Utilisateur qui répond (défaut : soi).")
    contact: int | None = Field(default=None, description="Contact d'astreinte qui répond.")
    role: str = Field(description="Rôle d'astreinte : communication, validator, prefect.")


class CodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activated_at: datetime | None = Field(
        default=None, description="Heure de la décision (ISO 8601 avec fuseau), passée."
    )
    synergi_ref: str | None = Field(default=None, max_length=200)
    decided_by: str | None = Field(default=None, max_length=300)


@router.post(
    "/crises/{crisis_id}/cell/activate",
    summary="Ordonner la cellule (ES47)",
    **returns(CrisisView, 404, 409),
)
async def activate_cell(
    crisis_id: int,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> JSONResponse:
    now = clock.now()

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        crisis = await lifecycle.order_cell(
            session, actor=actor, crisis_id=crisis_id, rules=lifecycle_rules(settings), now=now
        )
        return 200, await crisis_with_clocks(session, crisis, now)

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.post(
    "/crises/{crisis_id}/cell/acknowledgements",
    status_code=201,
    summary="Répondre à l'appel de la cellule",
    **returns(AcknowledgementView, 404, 409),
)
async def acknowledge(
    crisis_id: int,
    body: AcknowledgementIn,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
) -> JSONResponse:
    now = clock.now()
    user_id = body.user if body.user is not None or body.contact is not None else actor.user_id

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        name = ""
        if user_id is not None:
            user = await session.get(User, user_id)
            name = (user.display_name or user.login) if user else ""
        ack = await lifecycle.acknowledge(
            session,
            actor=actor,
            crisis_id=crisis_id,
            duty_role=body.role,
            now=now,
            contact_id=body.contact,
            user_id=user_id,
            user_name=name,
        )
        return 201, {
            "id": ack.id,
            "crisis_id": crisis_id,
            "role": ack.duty_role,
            "person": ack.person,
            "name": ack.name,
            "at": ack.at.isoformat(),
            "via": ack.via,
        }

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.post(
    "/crises/{crisis_id}/cell/operational",
    summary="Déclarer la cellule opérationnelle",
    **returns(CrisisView, 404, 409),
)
async def cell_operational(
    crisis_id: int,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> JSONResponse:
    now = clock.now()

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        crisis = await lifecycle.declare_operational(
            session, actor=actor, crisis_id=crisis_id, rules=lifecycle_rules(settings), now=now
        )
        return 200, await crisis_with_clocks(session, crisis, now)

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.post(
    "/crises/{crisis_id}/cod",
    summary="Enregistrer l'activation du COD (ES48)",
    **returns(CrisisView, 404, 409),
)
async def record_cod(
    crisis_id: int,
    body: CodIn,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> JSONResponse:
    now = clock.now()

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        crisis = await lifecycle.record_cod(
            session,
            actor=actor,
            crisis_id=crisis_id,
            activated_at=body.activated_at,
            synergi_ref=body.synergi_ref,
            decided_by=body.decided_by,
            rules=lifecycle_rules(settings),
            now=now,
        )
        return 200, await crisis_with_clocks(session, crisis, now)

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.get(
    "/crises/{crisis_id}/clocks",
    summary="Horloges ES47, ES48 (et ES50)",
    **returns(list[ClockView], 404),
)
async def crisis_clocks(
    crisis_id: int, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> list[dict[str, Any]]:
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        states = await overview.clock_states(session, crises=[crisis], now=clock.now())
    return [state_view(s) for s in states.get(crisis_id, [])]


@router.post(
    "/crises/{crisis_id}/close",
    summary="Clore l'événement et produire son bilan",
    **returns(ClosedCrisisView, 404, 409),
)
async def close_crisis(
    crisis_id: int, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> JSONResponse:
    now = clock.now()

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        figures = await summary.figures(session, crisis_id=crisis_id, now=now)
        crisis = await lifecycle.close(
            session, actor=actor, crisis_id=crisis_id, now=now, summary=figures
        )
        view = await crisis_with_clocks(session, crisis, now)
        return 200, view | {"summary_url": f"/evenements/{crisis_id}/bilan", "summary": figures}

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


async def _mark(
    crisis_id: int, item: int, *, done: bool, request: Request, actor: Any, db: Any, now: datetime
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        crisis = await crises.get(session, crisis_id=crisis_id)
        entry = await checklist.mark(
            session,
            actor=actor,
            crisis_id=crisis_id,
            position=item,
            done=done,
            crisis_open=crisis.is_open,
            now=now,
        )
        return 200, checklist.entry_view(entry)

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.post(
    "/crises/{crisis_id}/checklist/{item}/done",
    summary="Cocher une étape",
    **returns(ChecklistEntryView, 404, 409),
)
async def tick_item(
    crisis_id: int, item: int, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> JSONResponse:
    return await _mark(
        crisis_id, item, done=True, request=request, actor=actor, db=db, now=clock.now()
    )


@router.delete(
    "/crises/{crisis_id}/checklist/{item}/done",
    summary="Décocher une étape",
    **returns(ChecklistEntryView, 404, 409),
)
async def untick_item(
    crisis_id: int, item: int, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> JSONResponse:
    return await _mark(
        crisis_id, item, done=False, request=request, actor=actor, db=db, now=clock.now()
    )
