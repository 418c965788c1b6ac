"""`/api/v1/crises`: declare and read crises, read their journal."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import crises, journal
from crisis.app import idempotency
from crisis.app.auth import ClockDep, CurrentActor, DbDep
from crisis.crises import Crisis, CrisisMode

router = APIRouter(prefix="/api/v1", tags=["événements"])


class CrisisIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200)
    kind: str = Field(min_length=2, max_length=40)
    mode: Literal["real", "exercise"]
    communes: list[str] = Field(min_length=1, max_length=1000)
    activate_cell: bool = True


def crisis_view(crisis: Crisis) -> dict[str, Any]:
    return {
        "id": crisis.id,
        "title": crisis.title,
        "kind": crisis.kind,
        "mode": crisis.mode,
        "status": crisis.status,
        "communes": crisis.communes,
        "declared_at": crisis.declared_at.isoformat(),
        "declared_by": crisis.declared_by,
        "closed_at": crisis.closed_at.isoformat() if crisis.closed_at else None,
    }


@router.post("/crises", status_code=201, summary="Déclarer un événement majeur")
async def declare_crisis(
    body: CrisisIn, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> JSONResponse:
    now = clock.now()

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        crisis = await crises.declare(
            session,
            actor=actor,
            title=body.title,
            kind=body.kind,
            mode=CrisisMode(body.mode),
            communes=body.communes,
            now=now,
        )
        return 201, crisis_view(crisis)

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.get("/crises", summary="Lister les événements")
async def list_crises(
    actor: CurrentActor, db: DbDep, include_closed: bool = True
) -> dict[str, Any]:
    async with db.read() as session:
        rows = await crises.listing(session, include_closed=include_closed)
    return {"items": [crisis_view(c) for c in rows]}


@router.get("/crises/{crisis_id}", summary="Lire un événement")
async def read_crisis(crisis_id: int, actor: CurrentActor, db: DbDep) -> dict[str, Any]:
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
    return crisis_view(crisis)


@router.get("/crises/{crisis_id}/journal", summary="Main courante de l'événement")
async def crisis_journal(
    crisis_id: int,
    actor: CurrentActor,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    async with db.read() as session:
        await crises.get(session, crisis_id=crisis_id)
        entries = await journal.for_crisis(session, crisis_id=crisis_id, limit=limit)
    return {"crisis_id": crisis_id, "items": [journal.entry_view(e) for e in entries]}
