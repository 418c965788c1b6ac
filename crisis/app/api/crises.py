"""`/api/v1/crises`: declare and read crises (with status, timestamps and clocks), journal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal, privacy
from crisis.actors import Actor
from crisis.app import actions, idempotency
from crisis.app.actions import CallerDep
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.crises import (
    CrisisDetail,
    CrisisList,
    CrisisView,
    JournalEntryView,
    JournalView,
)
from crisis.app.api.schemas.requests import RequestModel, VisibleText
from crisis.app.auth import ClockDep, CurrentActor, DbDep
from crisis.app.paths import RowId
from crisis.cell import cabinet, checklist, crises, overview, tracks
from crisis.cell.clocks import ClockState, state_view
from crisis.cell.crises import Crisis
from crisis.cell.tracks import CipTrack
from crisis.cip import record as cip_record
from crisis.vocabulary import CabinetEntryKind, CrisisMode

router = APIRouter(prefix="/api/v1", tags=["événements"])


class CrisisIn(RequestModel):
    title: VisibleText = Field(min_length=3, max_length=200)
    kind: str = Field(min_length=2, max_length=40)
    mode: CrisisMode
    communes: list[str] = Field(min_length=1, max_length=1000)
    activate_cell: bool = True


class CabinetEntryIn(RequestModel):
    kind: CabinetEntryKind = Field(description="decision, information ou action.")
    text: str = Field(max_length=20_000, description="Le fait, en 4 000 caractères au plus.")
    occurred_at: datetime | None = Field(
        default=None,
        description="Heure du fait (ISO 8601 avec fuseau), passée ; défaut : maintenant.",
    )
    source: str | None = Field(
        default=None, max_length=1000, description="D'où vient le fait (« appel du maire »)."
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def crisis_view(
    crisis: Crisis,
    states: Sequence[ClockState] = (),
    *,
    personal: bool,
    cip: CipTrack = CipTrack.NOT_ORDERED,
) -> dict[str, Any]:
    return {
        "id": crisis.id,
        "title": crisis.title,
        "kind": crisis.kind,
        "mode": crisis.mode,
        "status": crisis.status,
        "tracks": tracks.of(crisis, cip=cip).view(),
        "communes": crisis.communes,
        "playbook": crisis.playbook_key,
        "declared_at": crisis.declared_at.isoformat(),
        "declared_by": crisis.declared_by,
        "cell": {
            "ordered_at": _iso(crisis.cell_ordered_at),
            "ordered_by": crisis.cell_ordered_by,
            "operational_at": _iso(crisis.cell_operational_at),
            "operational_by": crisis.cell_operational_by,
        },
        "cod": {
            "activated_at": _iso(crisis.cod_activated_at),
            "synergi_ref": crisis.cod_synergi_ref,
            "decided_by": crisis.cod_decided_by,
            "recorded_at": _iso(crisis.cod_recorded_at),
            "recorded_by": crisis.cod_recorded_by,
        },
        "closed_at": _iso(crisis.closed_at),
        "closed_by": crisis.closed_by,
        "clocks": [state_view(s, personal=personal) for s in states],
    }


async def crisis_with_clocks(
    session: AsyncSession, crisis: Crisis, now: datetime, *, viewer: Actor
) -> dict[str, Any]:
    states = await overview.clock_states(  # the API: every missing name
        session, crises=[crisis], now=now, missing_shown=None
    )
    personal = privacy.sees_personal_data(viewer)
    cip = (await cip_record.tracks(session, crisis_ids=[crisis.id or 0])).get(crisis.id or 0)
    return crisis_view(
        crisis, states.get(crisis.id or 0, []), personal=personal, cip=cip or CipTrack.NOT_ORDERED
    )


@router.post(
    "/crises",
    status_code=201,
    summary="Déclarer un événement majeur",
    **returns(CrisisView, 404, 409),
)
async def declare_crisis(
    body: CrisisIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    """Declares the crisis and, unless `activate_cell` is false, orders the cell (ES47)."""

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        crisis = await actions.declare(session, caller, **body.model_dump())
        return 201, await crisis_with_clocks(session, crisis, caller.now, viewer=caller.actor)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.get("/crises", summary="Lister les événements", **returns(CrisisList))
async def list_crises(
    actor: CurrentActor, db: DbDep, clock: ClockDep, include_closed: bool = True
) -> dict[str, Any]:
    now = clock.now()
    async with db.read() as session:
        rows = await crises.listing(session, include_closed=include_closed)
        states = await overview.clock_states(  # the API: every missing name
            session, crises=rows, now=now, missing_shown=None
        )
        cips = await cip_record.tracks(session, crisis_ids=[c.id for c in rows if c.id])
    personal = privacy.sees_personal_data(actor)
    return {
        "items": [
            crisis_view(
                c,
                states.get(c.id or 0, []),
                personal=personal,
                cip=cips.get(c.id or 0, CipTrack.NOT_ORDERED),
            )
            for c in rows
        ]
    }


@router.get("/crises/{crisis_id}", summary="Lire un événement", **returns(CrisisDetail, 404))
async def read_crisis(
    crisis_id: RowId, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> dict[str, Any]:
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        view = await crisis_with_clocks(session, crisis, clock.now(), viewer=actor)
        items = await checklist.for_crisis(session, crisis_id=crisis_id)
    return view | {"checklist": [checklist.entry_view(i) for i in items]}


@router.get(
    "/crises/{crisis_id}/journal",
    summary="Main courante de l'événement",
    **returns(JournalView, 404),
)
async def crisis_journal(
    crisis_id: RowId,
    actor: CurrentActor,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    kind: Annotated[
        str | None, Query(max_length=20, description="decision, information, action ou cabinet")
    ] = None,
    author: Annotated[
        str | None, Query(max_length=64, description="identifiant de l'auteur")
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="mots cherchés")] = None,
) -> dict[str, Any]:
    wanted = cabinet.parse_filter(kind, author, q)
    async with db.read() as session:
        await crises.get(session, crisis_id=crisis_id)
        entries = await journal.for_crisis(session, crisis_id=crisis_id, limit=limit)
    shown = privacy.journal_entries(entries, personal=privacy.sees_personal_data(actor))
    shown = cabinet.narrowed(shown, wanted)
    return {"crisis_id": crisis_id, "items": [journal.entry_view(e) for e in shown]}


@router.post(
    "/crises/{crisis_id}/journal",
    status_code=201,
    summary="Écrire dans la main courante (décision, information, action du cabinet)",
    **returns(JournalEntryView, 404, 409),
)
async def write_journal(
    crisis_id: RowId, body: CabinetEntryIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    """The cabinet's own entry, chained like every other; refused on a closed crisis."""
    note = cabinet.CabinetNote(
        kind=body.kind, text=body.text, source=body.source, occurred_at=body.occurred_at
    )

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        entry = await cabinet.record(
            session, actor=caller.actor, crisis_id=crisis_id, note=note, now=caller.now
        )
        return 201, journal.entry_view(entry)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)
