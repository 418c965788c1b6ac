"""Web forms of the crisis lifecycle, the acknowledgement link and the closing summary."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import paged_answers, privacy, summary
from crisis.actors import Actor
from crisis.app import actions, checkpointing
from crisis.app.actions import CallerDep
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep
from crisis.app.clock import PARIS
from crisis.app.errors import journal_refusal
from crisis.app.paths import MAX_ROW_ID, RowId
from crisis.app.summary_view import EXERCISE_BANNER, SummaryView, build_view
from crisis.app.web.templating import flash, render
from crisis.cell import acknowledgements, crises
from crisis.cell.paging import CellAcknowledgement
from crisis.errors import DomainError
from crisis.summary import Summary

router = APIRouter(include_in_schema=False)


async def _act(
    request: Request,
    db: DbDep,
    crisis_id: int,
    step: Callable[[AsyncSession], Awaitable[object]],
    done: str | Callable[[Any], str],
) -> Response:
    """Run one action; a refusal is journaled and shown on the crisis page."""
    return await act_then_show(request, db, step, done, location=f"/evenements/{crisis_id}")


async def act_then_show(
    request: Request,
    db: DbDep,
    step: Callable[[AsyncSession], Awaitable[object]],
    done: str | Callable[[Any], str],
    *,
    location: str,
) -> Response:
    """Run one action in its transaction; a refusal is journaled (when it must be) and shown,
    as the success is, on the page at `location`."""
    try:
        async with db.transaction() as session:
            result = await step(session)
    except DomainError as error:
        if error.journaled:
            await journal_refusal(
                request, code=error.code, message=error.message, status=error.status
            )
        flash(request, "error", error.message)
    else:
        flash(request, "success", done if isinstance(done, str) else done(result))
    return RedirectResponse(location, status_code=303)


CELL_DONE = {
    False: "Cellule ordonnée : l'astreinte est appelée.",
    True: "Cellule déclarée opérationnelle (ES47).",
}


@router.post("/evenements/{crisis_id}/cellule", dependencies=[CsrfChecked])
@router.post("/evenements/{crisis_id}/cellule/operationnelle", dependencies=[CsrfChecked])
async def cell(crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep) -> Response:
    """Order the cell, or (at `…/operationnelle`) declare it operational."""
    operational = request.url.path.endswith("/operationnelle")
    return await _act(
        request,
        db,
        crisis_id,
        lambda s: actions.cell(s, caller, crisis_id, operational=operational),
        CELL_DONE[operational],
    )


def _acknowledged(ack: CellAcknowledgement) -> str:
    note = acknowledgements.recorded_note(ack)
    if note is None:
        return "Votre présence est enregistrée."
    return f"Réponse par téléphone {note.replace('enregistré', 'enregistrée', 1)}."


@router.post("/evenements/{crisis_id}/cellule/reponse", dependencies=[CsrfChecked])
async def acknowledge(
    crisis_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    role: Annotated[str, Form(max_length=20)],
    person: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """For oneself by default; the cabinet may record « pour le compte de » a paged person."""

    async def action(session: AsyncSession) -> CellAcknowledgement:
        contact_id, user_id = acknowledgements.parse_person(person, default_user=actor.user_id)
        return await acknowledgements.acknowledge(
            session,
            actor=actor,
            crisis_id=crisis_id,
            duty_role=role,
            contact_id=contact_id,
            user_id=user_id,
            now=clock.now(),
        )

    return await _act(request, db, crisis_id, action, _acknowledged)


def paris_local(value: str) -> datetime | None:
    """A `datetime-local` value, read as Paris time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=PARIS)
    except ValueError:
        return None


@router.post("/evenements/{crisis_id}/cod", dependencies=[CsrfChecked])
async def record_cod(
    crisis_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    activated_at: Annotated[str, Form(max_length=40)] = "",
    synergi_ref: Annotated[str, Form(max_length=200)] = "",
    decided_by: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    at = paris_local(activated_at)
    return await _act(
        request,
        db,
        crisis_id,
        lambda s: actions.record_cod(
            s, caller, crisis_id, activated_at=at, synergi_ref=synergi_ref, decided_by=decided_by
        ),
        "Activation du COD enregistrée (ES48).",
    )


@router.post("/evenements/{crisis_id}/liste/{position}", dependencies=[CsrfChecked])
async def mark_item(
    crisis_id: RowId,
    position: Annotated[int, Path(ge=0, le=MAX_ROW_ID)],
    request: Request,
    caller: CallerDep,
    db: DbDep,
    done: Annotated[bool, Form()] = True,
) -> Response:
    text = f"Étape n° {position} cochée." if done else f"Étape n° {position} décochée."
    return await _act(
        request,
        db,
        crisis_id,
        lambda s: actions.mark_item(s, caller, crisis_id, position=position, done=done),
        text,
    )


@router.post("/evenements/{crisis_id}/cloture", dependencies=[CsrfChecked])
async def close(
    crisis_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    confirm_es48_unmet: Annotated[bool, Form()] = False,
) -> Response:
    """Closing with ES48 unmet needs the modal's confirmation box ticked."""
    done = "Événement clos : le bilan est prêt."
    response = await _act(
        request,
        db,
        crisis_id,
        lambda s: actions.close(s, caller, crisis_id, unmet_confirmed=confirm_es48_unmet),
        done,
    )
    await checkpointing.after_close(db, caller.settings, now=caller.now)
    async with db.read() as session:
        if not (await crises.get(session, crisis_id=crisis_id)).is_open:
            return RedirectResponse(f"/evenements/{crisis_id}/bilan", status_code=303)
    return response


async def _summary(
    db: DbDep, crisis_id: int, now: datetime, actor: Actor
) -> tuple[Summary, SummaryView]:
    async with db.read() as session:
        built = await summary.build(session, crisis_id=crisis_id, now=now)
    return built, build_view(built, personal=privacy.sees_personal_data(actor))


async def _pdf(built: Summary, view: SummaryView) -> bytes:
    """Drawn in a worker thread: a long journal takes seconds of CPU, never the event loop's.
    fpdf is imported on first use: it would add ~0.4 s to every start (issue 22)."""
    from crisis.app import summary_pdf

    return await asyncio.to_thread(summary_pdf.render, view, generated_at=built.generated_at)


def _kilobytes(size: int) -> int:
    return max(1, round(size / 1000))


@router.get("/evenements/{crisis_id}/bilan")
async def summary_page(
    crisis_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    built, view = await _summary(db, crisis_id, clock.now(), actor)
    pdf_kb = None
    if not built.crisis.is_open:
        pdf_kb = _kilobytes(len(await _pdf(built, view)))
    return render(request, "summary.html", view=view, exercise=view.exercise, pdf_kb=pdf_kb)


@router.get("/evenements/{crisis_id}/bilan.html")
async def summary_file(
    crisis_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    """The same summary as one self-contained HTML file (no external style or script)."""
    _, view = await _summary(db, crisis_id, clock.now(), actor)
    page = render(request, "summary_file.html", view=view, exercise_banner=EXERCISE_BANNER)
    name = f"bilan-evenement-{crisis_id}.html"
    page.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return page


@router.get("/evenements/{crisis_id}/synthese.pdf")
async def summary_pdf_file(
    crisis_id: RowId, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    """The summary of a closed crisis as an A4 PDF (409 while the crisis is open)."""
    async with db.read() as session:
        summary.require_closed(await crises.get(session, crisis_id=crisis_id))
    built, view = await _summary(db, crisis_id, clock.now(), actor)
    return Response(
        await _pdf(built, view),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="tocsin-synthese-{crisis_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/acquitter/{token}")
async def acknowledge_page(token: str, request: Request, db: DbDep) -> HTMLResponse:
    """The page behind a paging link: one button, so that link scanners acknowledge nothing."""
    try:
        async with db.read() as session:
            row = await acknowledgements.page_by_token(session, token=token)
            crisis = await crises.get(session, crisis_id=row.crisis_id)
    except DomainError as error:
        return render(request, "acknowledge.html", error.status, error=error.message)
    return render(request, "acknowledge.html", page=row, crisis=crisis, token=token)


@router.post("/acquitter/{token}", dependencies=[CsrfChecked])
async def acknowledge_submit(
    token: str, request: Request, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    try:
        async with db.transaction() as session:
            row = await paged_answers.acknowledge_link(session, token=token, now=clock.now())
            crisis = await crises.get(session, crisis_id=row.crisis_id)
    except DomainError as error:
        if error.journaled:
            await journal_refusal(
                request, code=error.code, message=error.message, status=error.status
            )
        return render(request, "acknowledge.html", error.status, error=error.message)
    return render(request, "acknowledge.html", page=row, crisis=crisis, done=True)
