"""The CIP routes (ES50): order and close, check in and out, open, calls, FAQ."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app import idempotency
from crisis.app.actions import Caller, CallerDep
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.cip import (
    CallIn,
    CallView,
    CheckInIn,
    CheckOutIn,
    CipOrderIn,
    CipView,
    DebriefIn,
    DebriefList,
    DebriefView,
    FaqIn,
    FaqList,
    FaqView,
    ShiftView,
)
from crisis.app.auth import CurrentActor, DbDep, SettingsDep
from crisis.app.paths import RowId
from crisis.app.policies import cip_rules
from crisis.cell import crises
from crisis.cip import calls, debrief, faq, ordering, privacy, record, staffing, views
from crisis.cip.faq import APPROVERS, WRITERS
from crisis.errors import NotFound

router = APIRouter(prefix="/api/v1/crises/{crisis_id}/cip", tags=["CIP"])

Step = Callable[[AsyncSession], Awaitable[object]]


async def _answer_cip(
    request: Request, db: DbDep, caller: Caller, crisis_id: int, step: Step, status: int = 200
) -> JSONResponse:
    """Run one step (idempotently) and answer with the CIP as it now is."""

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        await step(session)
        rules = cip_rules(caller.settings)
        return status, await views.cip_of(session, crisis_id=crisis_id, rules=rules)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post("", status_code=201, summary="Ordonner la CIP (ES50)", **returns(CipView, 404, 409))
async def order_cip(
    crisis_id: RowId, body: CipOrderIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def step(session: AsyncSession) -> object:
        return await ordering.order(
            session,
            **caller.acting,
            crisis_id=crisis_id,
            number=body.number,
            decided_by=body.ordered_by,
            expected_opening_at=body.expected_opening_at,
            rules=cip_rules(caller.settings),
        )

    return await _answer_cip(request, db, caller, crisis_id, step, status=201)


@router.delete("", summary="Fermer la CIP", **returns(CipView, 404, 409))
async def close_cip(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def step(session: AsyncSession) -> object:
        return await ordering.close(session, **caller.acting, crisis_id=crisis_id)

    return await _answer_cip(request, db, caller, crisis_id, step)


@router.get("", summary="État, opérateurs et chiffres de la CIP", **returns(CipView, 404))
async def get_cip(
    crisis_id: RowId, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    async with db.read() as session:
        await crises.get(session, crisis_id=crisis_id)
        if await record.find(session, crisis_id=crisis_id) is None:  # a read: not journaled
            raise NotFound("cip_not_ordered", "La CIP n'a pas été ordonnée pour cet événement.")
        return await views.cip_of(session, crisis_id=crisis_id, rules=cip_rules(settings))


@router.post(
    "/open", summary="Déclarer la CIP ouverte (arrête l'ES50)", **returns(CipView, 404, 409)
)
async def open_cip(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def step(session: AsyncSession) -> object:
        return await ordering.declare_open(
            session, **caller.acting, crisis_id=crisis_id, rules=cip_rules(caller.settings)
        )

    return await _answer_cip(request, db, caller, crisis_id, step)


@router.post(
    "/operators", status_code=201, summary="Prendre son poste", **returns(ShiftView, 404, 409)
)
async def check_in(
    crisis_id: RowId, body: CheckInIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        shift = await staffing.check_in(
            session, **caller.acting, crisis_id=crisis_id, role=body.role, user_id=body.user
        )
        return 201, views.shift_view(shift)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.delete(
    "/operators/{shift_id}",
    summary="Quitter son poste (note de passation)",
    **returns(ShiftView, 404, 409),
)
async def check_out(
    crisis_id: RowId,
    shift_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    body: Annotated[CheckOutIn | None, Body()] = None,
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        shift = await staffing.check_out(
            session,
            **caller.acting,
            crisis_id=crisis_id,
            shift_id=shift_id,
            handover_note=body.handover_note if body else None,
        )
        return 200, views.shift_view(shift)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/calls", status_code=201, summary="Enregistrer un appel", **returns(CallView, 404, 409)
)
async def log_call(
    crisis_id: RowId, body: CallIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        logged = await calls.log_call(
            session,
            **caller.acting,
            crisis_id=crisis_id,
            call=calls.CallIn(**body.model_dump()),
            rules=cip_rules(caller.settings),
        )
        shown = privacy.sees_callback_numbers(caller.actor)
        return 201, views.call_view(logged, callback_numbers=shown)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/calls/{call_id}/follow-up/done",
    summary="Noter un rappel fait",
    **returns(CallView, 404, 409),
)
async def follow_up_done(
    crisis_id: RowId, call_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        call = await calls.follow_up_done(
            session, **caller.acting, crisis_id=crisis_id, call_id=call_id
        )
        shown = privacy.sees_callback_numbers(caller.actor)
        return 200, views.call_view(call, callback_numbers=shown)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.get("/faq", summary="La FAQ de la CIP (recherche)", **returns(FaqList, 404))
async def list_faq(
    crisis_id: RowId,
    actor: CurrentActor,
    db: DbDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> dict[str, Any]:
    """Validated entries; the writers and validators also see those awaiting validation."""
    approved_only = not actor.roles & {*WRITERS, *APPROVERS}
    async with db.read() as session:
        await crises.get(session, crisis_id=crisis_id)
        items = await faq.listing(session, crisis_id=crisis_id, approved_only=approved_only)
    return {"items": [views.faq_view(i) for i in faq.search(items, q)]}


@router.post("/faq", status_code=201, summary="Rédiger une réponse", **returns(FaqView, 404, 409))
async def write_faq(
    crisis_id: RowId, body: FaqIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        entry = await faq.write(session, **caller.acting, crisis_id=crisis_id, **body.model_dump())
        return 201, await _faq_item(session, crisis_id, entry.id)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post("/faq/{entry_id}/approve", summary="Valider une réponse", **returns(FaqView, 404, 409))
async def approve_faq(
    crisis_id: RowId, entry_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        entry = await faq.approve(session, **caller.acting, crisis_id=crisis_id, entry_id=entry_id)
        return 200, await _faq_item(session, crisis_id, entry.id)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.post(
    "/debriefs",
    status_code=201,
    summary="Écrire son débriefing (CIP fermée, poste tenu)",
    **returns(DebriefView, 403, 404, 409),
)
async def write_debrief(
    crisis_id: RowId, body: DebriefIn, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        written = await debrief.write(
            session,
            **caller.acting,
            crisis_id=crisis_id,
            hard_calls=body.hard_calls,
            needs=body.needs,
        )
        return 201, views.debrief_view(written)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.get("/debriefs", summary="Les débriefings des opérateurs", **returns(DebriefList, 404))
async def list_debriefs(crisis_id: RowId, actor: CurrentActor, db: DbDep) -> dict[str, Any]:
    async with db.read() as session:
        await crises.get(session, crisis_id=crisis_id)
        written = await debrief.for_crisis(session, crisis_id=crisis_id)
    return {"items": [views.debrief_view(d) for d in written]}


async def _faq_item(session: AsyncSession, crisis_id: int, entry_id: int | None) -> dict[str, Any]:
    items = await faq.listing(session, crisis_id=crisis_id, approved_only=False)
    return views.faq_view(next(i for i in items if i.entry.id == entry_id))


__all__ = ["router"]
