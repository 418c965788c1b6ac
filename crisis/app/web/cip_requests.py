"""The CIP's written requests on the console: one page per request, where an operator takes
it and answers it by e-mail (through the dispatcher). A refusal brings the page back with the
reason and the answer typed (journaled like the API's); a success comes back to the page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor, Role
from crisis.app.actions import Caller, CallerDep
from crisis.app.auth import CsrfChecked, DbDep
from crisis.app.db import Database
from crisis.app.errors import journal_refusal
from crisis.app.paths import RowId
from crisis.app.web.templating import flash, render
from crisis.cell import crises
from crisis.cip import answering, privacy, record, requests, staffing
from crisis.cip.request_views import STATUS_LABELS, status
from crisis.cip.requests import CipRequest
from crisis.errors import DomainError

pages = APIRouter(include_in_schema=False)
forms = APIRouter(include_in_schema=False, dependencies=[CsrfChecked])
Step = Callable[[AsyncSession], Awaitable[CipRequest]]


async def written_context(
    session: AsyncSession, *, crisis_id: int, now: datetime
) -> dict[str, Any]:
    """What the console and the cabinet's CIP section show of the written requests."""
    found = await requests.for_crisis(session, crisis_id=crisis_id)
    return {
        "written": [(r, status(r, now=now)) for r in found],
        "written_tally": requests.tally(found, now=now),
        "request_status_labels": STATUS_LABELS,
    }


async def _page_context(
    db: Database, *, crisis_id: int, request_id: int, actor: Actor, now: datetime
) -> dict[str, Any]:
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        found = await requests.get(session, crisis_id=crisis_id, request_id=request_id)
        cip = await record.find(session, crisis_id=crisis_id)
        present = await staffing.present_shift(session, crisis_id=crisis_id, actor=actor)
    return {
        "crisis": crisis,
        "exercise": crisis.is_exercise,
        "item": found,
        "item_status": status(found, now=now),
        "request_status_labels": STATUS_LABELS,
        "addresses": privacy.sees_requester_address(actor),
        "me": actor.login,
        "may_answer": cip is not None
        and cip.closed_at is None
        and found.answered_at is None
        and (present is not None or Role.PREFECT in actor.roles),
    }


@pages.get("/evenements/{crisis_id}/cip/demandes/{request_id}")
async def request_page(
    crisis_id: RowId, request_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> HTMLResponse:
    context = await _page_context(
        db, crisis_id=crisis_id, request_id=request_id, actor=caller.actor, now=caller.now
    )
    return render(request, "cip/request.html", form={}, **context)


async def _act(
    request: Request,
    caller: Caller,
    db: DbDep,
    *,
    crisis_id: int,
    request_id: int,
    step: Step,
    done: str,
    form: dict[str, Any] | None = None,
) -> Response:
    try:
        async with db.transaction() as session:
            await step(session)
    except DomainError as refused:
        if refused.journaled:
            await journal_refusal(
                request, code=refused.code, message=refused.message, status=refused.status
            )
        context = await _page_context(
            db, crisis_id=crisis_id, request_id=request_id, actor=caller.actor, now=caller.now
        )
        return render(
            request,
            "cip/request.html",
            status=refused.status,
            errors=[refused.message],
            form=form or {},
            **context,
        )
    flash(request, "success", done)
    target = f"/evenements/{crisis_id}/cip/demandes/{request_id}"
    return RedirectResponse(target, status_code=303)


@forms.post("/evenements/{crisis_id}/cip/demandes/{request_id}/prise")
async def take(
    crisis_id: RowId, request_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    async def step(session: AsyncSession) -> CipRequest:
        return await answering.take(
            session, **caller.acting, crisis_id=crisis_id, request_id=request_id
        )

    done = "Demande prise en charge."
    return await _act(
        request, caller, db, crisis_id=crisis_id, request_id=request_id, step=step, done=done
    )


@forms.post("/evenements/{crisis_id}/cip/demandes/{request_id}/reponse")
async def answer(
    crisis_id: RowId,
    request_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    text: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    async def step(session: AsyncSession) -> CipRequest:
        return await answering.answer(
            session, **caller.acting, crisis_id=crisis_id, request_id=request_id, text=text
        )

    done = "Réponse envoyée par courriel (le répartiteur la distribue)."
    return await _act(
        request,
        caller,
        db,
        crisis_id=crisis_id,
        request_id=request_id,
        step=step,
        done=done,
        form={"text": text},
    )
