"""The CIP page's forms: order, open, close, check in and out, log a call, write and approve
FAQ entries, write one's debrief after the close. A refusal brings the page back with the
reason and what was typed (journaled like the API's); a success redirects to the page
(`?appel=N` tells the console the call was saved, so that it drops its local draft)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from crisis.app import idempotency
from crisis.app.actions import Caller, CallerDep
from crisis.app.auth import CsrfChecked, DbDep
from crisis.app.errors import journal_refusal
from crisis.app.paths import RowId
from crisis.app.policies import cip_rules
from crisis.app.web.bulletin_form import communes_of
from crisis.app.web.cip_console import console_context
from crisis.app.web.lifecycle_pages import paris_local
from crisis.app.web.templating import flash, render
from crisis.cell.crises import RefusedInput
from crisis.cip import calls, debrief, faq, ordering, staffing
from crisis.errors import DomainError

router = APIRouter(include_in_schema=False, dependencies=[CsrfChecked])
Step = Callable[[AsyncSession], Awaitable[Any]]


async def _act(
    request: Request,
    caller: Caller,
    db: DbDep,
    crisis_id: int,
    step: Step,
    *,
    done: str,
    form: dict[str, Any] | None = None,
    saved_call: bool = False,
) -> Response:
    try:
        async with db.transaction() as session:
            result = await step(session)
    except DomainError as refused:
        if refused.journaled:
            await journal_refusal(
                request, code=refused.code, message=refused.message, status=refused.status
            )
        context = await console_context(db, crisis_id=crisis_id, caller=caller)
        return render(
            request,
            "cip/console.html",
            status=refused.status,
            errors=[refused.message],
            form=form or {},
            saved_call="",
            **context,
        )
    flash(request, "success", done)
    target = f"/evenements/{crisis_id}/cip"
    if saved_call:
        target += f"?appel={result.id}#appel"
    return RedirectResponse(target, status_code=303)


def _when(value: str, *, what: str) -> datetime | None:
    if not value.strip():
        return None
    found = paris_local(value.strip())
    if found is None:
        raise RefusedInput("time_unreadable", f"{what} : heure illisible « {value[:30]} ».")
    return found


@router.post("/evenements/{crisis_id}/cip/ordre")
async def order(
    crisis_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    number: Annotated[str, Form(max_length=40)] = "",
    decided_by: Annotated[str, Form(max_length=200)] = "",
    expected_opening: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    async def step(session: AsyncSession) -> object:
        return await ordering.order(
            session,
            **caller.acting,
            crisis_id=crisis_id,
            number=number,
            decided_by=decided_by,
            expected_opening_at=_when(expected_opening, what="Ouverture prévue"),
            rules=cip_rules(caller.settings),
        )

    form = {"number": number, "decided_by": decided_by, "expected_opening": expected_opening}
    done = "CIP ordonnée : l'horloge ES50 a démarré."
    return await _act(request, caller, db, crisis_id, step, done=done, form=form)


@router.post("/evenements/{crisis_id}/cip/ouverture")
async def declare_open(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    async def step(session: AsyncSession) -> object:
        rules = cip_rules(caller.settings)
        return await ordering.declare_open(
            session, **caller.acting, crisis_id=crisis_id, rules=rules
        )

    done = "CIP ouverte : l'ES50 est tenu."
    return await _act(request, caller, db, crisis_id, step, done=done)


@router.post("/evenements/{crisis_id}/cip/fermeture")
async def close(crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep) -> Response:
    async def step(session: AsyncSession) -> object:
        return await ordering.close(session, **caller.acting, crisis_id=crisis_id)

    return await _act(request, caller, db, crisis_id, step, done="CIP fermée.")


@router.post("/evenements/{crisis_id}/cip/poste")
async def check_in(
    crisis_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    async def step(session: AsyncSession) -> object:
        return await staffing.check_in(session, **caller.acting, crisis_id=crisis_id, role=role)

    return await _act(request, caller, db, crisis_id, step, done="Vous êtes en poste à la CIP.")


@router.post("/evenements/{crisis_id}/cip/poste/{shift_id}/fin")
async def check_out(
    crisis_id: RowId,
    shift_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    handover_note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    async def step(session: AsyncSession) -> object:
        return await staffing.check_out(
            session,
            **caller.acting,
            crisis_id=crisis_id,
            shift_id=shift_id,
            handover_note=handover_note,
        )

    form = {"handover_note": handover_note}
    done = "Poste quitté ; la note de passation est transmise."
    return await _act(request, caller, db, crisis_id, step, done=done, form=form)


async def _commune(session: AsyncSession, typed: str) -> str | None:
    items = communes_of(typed)
    if not items:
        return None
    codes, unknown = await geography.resolve(session, items=items)
    if unknown or len(codes) != 1:
        raise RefusedInput("unknown_commune", f"Commune non reconnue : « {typed[:60]} ».")
    return codes[0]


@router.post("/evenements/{crisis_id}/cip/appels")
async def log_call(
    crisis_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    received_at: Annotated[str, Form(max_length=40)] = "",
    answered_at: Annotated[str, Form(max_length=40)] = "",
    ended_at: Annotated[str, Form(max_length=40)] = "",
    commune: Annotated[str, Form(max_length=200)] = "",
    topic: Annotated[str, Form(max_length=20)] = "",
    question: Annotated[str, Form(max_length=4000)] = "",
    answer: Annotated[str, Form(max_length=4000)] = "",
    faq_id: Annotated[str, Form(max_length=12)] = "",
    follow_up: Annotated[bool, Form()] = False,
    callback_number: Annotated[str, Form(max_length=40)] = "",
    call_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    form = dict(await request.form())
    user, scope = caller.actor.user_id, f"cip-call:{crisis_id}"
    digest = idempotency.form_digest(form)

    async def step(session: AsyncSession) -> object:
        saved = await idempotency.form_result(
            session, user_id=user, scope=scope, key=call_key, digest=digest
        )
        if saved is not None:  # the same form again, its first answer lost: saved once
            return SimpleNamespace(id=saved["id"])
        call = calls.CallIn(
            received_at=_when(received_at, what="Appel reçu"),
            answered_at=_when(answered_at, what="Appel décroché"),
            ended_at=_when(ended_at, what="Fin d'appel"),
            commune=await _commune(session, commune),
            topic=topic,
            question=question,
            answer=answer,
            faq_id=int(faq_id) if faq_id.isdigit() and len(faq_id) < 10 else None,
            follow_up=follow_up,
            callback_number=callback_number,
        )
        logged = await calls.log_call(
            session,
            **caller.acting,
            crisis_id=crisis_id,
            call=call,
            rules=cip_rules(caller.settings),
        )
        await idempotency.remember_form(
            session, user_id=user, scope=scope, key=call_key, digest=digest,
            result={"id": logged.id}, now=caller.now,
        )  # fmt: skip
        return logged

    done = "Appel enregistré."
    return await _act(request, caller, db, crisis_id, step, done=done, form=form, saved_call=True)


@router.post("/evenements/{crisis_id}/cip/appels/{call_id}/rappel")
async def follow_up_done(
    crisis_id: RowId, call_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    async def step(session: AsyncSession) -> object:
        return await calls.follow_up_done(
            session, **caller.acting, crisis_id=crisis_id, call_id=call_id
        )

    return await _act(request, caller, db, crisis_id, step, done="Rappel noté comme fait.")


@router.post("/evenements/{crisis_id}/cip/faq")
async def write_faq(
    crisis_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    question: Annotated[str, Form(max_length=1000)] = "",
    answer: Annotated[str, Form(max_length=4000)] = "",
    source_bulletin_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    async def step(session: AsyncSession) -> object:
        source = int(source_bulletin_id) if source_bulletin_id.isdigit() else None
        return await faq.write(
            session,
            **caller.acting,
            crisis_id=crisis_id,
            question=question,
            answer=answer,
            source_bulletin_id=source if source and source < 2**31 else None,
            communes=[],
        )

    form = {"faq_question": question, "faq_answer": answer, "faq_source": source_bulletin_id}
    done = "Réponse rédigée : elle attend la validation d'une autre personne."
    return await _act(request, caller, db, crisis_id, step, done=done, form=form)


@router.post("/evenements/{crisis_id}/cip/faq/{entry_id}/validation")
async def approve_faq(
    crisis_id: RowId, entry_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    async def step(session: AsyncSession) -> object:
        return await faq.approve(session, **caller.acting, crisis_id=crisis_id, entry_id=entry_id)

    return await _act(request, caller, db, crisis_id, step, done="Réponse validée.")


@router.post("/evenements/{crisis_id}/cip/debriefing")
async def write_debrief(
    crisis_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    hard_calls: Annotated[str, Form(max_length=20000)] = "",
    needs: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    async def step(session: AsyncSession) -> object:
        return await debrief.write(
            session, **caller.acting, crisis_id=crisis_id, hard_calls=hard_calls, needs=needs
        )

    form = {"hard_calls": hard_calls, "needs": needs}
    done = "Débriefing enregistré : il rejoint le rapport de la CIP au bilan."
    return await _act(request, caller, db, crisis_id, step, done=done, form=form)
