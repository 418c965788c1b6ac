"""The CIP's written requests (issue 20 item 4): list, read, take, answer by e-mail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app import idempotency
from crisis.app.actions import Caller, CallerDep
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.cip_requests import AnswerIn, RequestList, RequestView
from crisis.app.auth import ClockDep, CurrentActor, DbDep
from crisis.app.paths import RowId
from crisis.cell import crises
from crisis.cip import answering, privacy, request_views, requests
from crisis.cip.requests import CipRequest

router = APIRouter(prefix="/api/v1/crises/{crisis_id}/cip/requests", tags=["CIP"])

Step = Callable[[AsyncSession], Awaitable[CipRequest]]


async def _answer_with(request: Request, db: DbDep, caller: Caller, step: Step) -> JSONResponse:
    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        done = await step(session)
        shown = privacy.sees_requester_address(caller.actor)
        return 200, request_views.request_view(done, now=caller.now, addresses=shown)

    return await idempotency.run(request, db, actor=caller.actor, now=caller.now, action=action)


@router.get("", summary="Les demandes écrites reçues par la CIP", **returns(RequestList, 404))
async def list_requests(
    crisis_id: RowId, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> dict[str, Any]:
    async with db.read() as session:
        await crises.get(session, crisis_id=crisis_id)
        found = await requests.for_crisis(session, crisis_id=crisis_id)
    shown = privacy.sees_requester_address(actor)
    return request_views.listing_view(found, now=clock.now(), addresses=shown)


@router.get("/{request_id}", summary="Une demande écrite", **returns(RequestView, 404))
async def get_request(
    crisis_id: RowId, request_id: RowId, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> dict[str, Any]:
    async with db.read() as session:
        found = await requests.get(session, crisis_id=crisis_id, request_id=request_id)
    shown = privacy.sees_requester_address(actor)
    return request_views.request_view(found, now=clock.now(), addresses=shown)


@router.post(
    "/{request_id}/take",
    summary="Prendre une demande écrite en charge",
    **returns(RequestView, 403, 404, 409),
)
async def take_request(
    crisis_id: RowId, request_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> JSONResponse:
    async def step(session: AsyncSession) -> CipRequest:
        return await answering.take(
            session, **caller.acting, crisis_id=crisis_id, request_id=request_id
        )

    return await _answer_with(request, db, caller, step)


@router.post(
    "/{request_id}/answer",
    summary="Répondre par courriel (par le répartiteur)",
    **returns(RequestView, 403, 404, 409),
)
async def answer_request(
    crisis_id: RowId,
    request_id: RowId,
    body: AnswerIn,
    request: Request,
    caller: CallerDep,
    db: DbDep,
) -> JSONResponse:
    async def step(session: AsyncSession) -> CipRequest:
        return await answering.answer(
            session, **caller.acting, crisis_id=crisis_id, request_id=request_id, text=body.answer
        )

    return await _answer_with(request, db, caller, step)


__all__ = ["router"]
