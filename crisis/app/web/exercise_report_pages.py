"""A drill run's report (RETEX): the page, its A4 PDF and its timeline chart (trainers and
the prefect, as the API's report)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from crisis.actors import Actor, Role
from crisis.app import exercise_chart
from crisis.app.actions import CallerDep
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep
from crisis.app.db import Database
from crisis.app.exercise_report_view import shown
from crisis.app.paths import RowId
from crisis.app.web.lifecycle_pages import act_then_show
from crisis.app.web.templating import render
from crisis.errors import NotFound
from exercises import notes, views

router = APIRouter(include_in_schema=False)
PRIVATE = {"Cache-Control": "no-store"}


async def _report(
    db: Database, actor: Actor, drill_id: int, run_id: int, now: datetime
) -> dict[str, Any]:
    async with db.read() as session:
        report = await views.report(session, actor=actor, drill_id=drill_id, run_id=run_id, now=now)
    return shown(report)


def report_path(drill_id: int, run_id: int) -> str:
    return f"/exercices/{drill_id}/seances/{run_id}"


@router.get("/exercices/{drill_id}/seances/{run_id}")
async def report_page(
    drill_id: RowId,
    run_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
) -> HTMLResponse:
    report = await _report(db, actor, drill_id, run_id, clock.now())
    return render(
        request,
        "exercises/report.html",
        report=report,
        path=report_path(drill_id, run_id),
        has_chart=exercise_chart.drawable(report),
        exercise=True,
        can_note=Role.TRAINER in actor.roles and report["run"]["crisis_id"] is not None,
        notes_max=notes.MAX_LENGTH,
    )


@router.post("/exercices/{drill_id}/seances/{run_id}/notes", dependencies=[CsrfChecked])
async def save_notes(
    drill_id: RowId,
    run_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    text: Annotated[str, Form(max_length=notes.MAX_LENGTH)] = "",
) -> Response:
    return await act_then_show(
        request,
        db,
        lambda s: notes.save(
            s, actor=caller.actor, drill_id=drill_id, run_id=run_id, text=text, now=caller.now
        ),
        "Notes du formateur enregistrées (inscrites à la main courante de la séance).",
        location=report_path(drill_id, run_id),
    )


@router.get("/exercices/{drill_id}/seances/{run_id}/bilan.pdf")
async def report_pdf(
    drill_id: RowId, run_id: RowId, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    """The report as an A4 PDF, drawn in a worker thread (never on the event loop)."""
    now = clock.now()
    report = await _report(db, actor, drill_id, run_id, now)
    from crisis.app import exercise_report_pdf  # fpdf on first use: ~0.4 s off each start

    pdf = await asyncio.to_thread(exercise_report_pdf.render, report, generated_at=now)
    name = f"tocsin-bilan-exercice-{drill_id}-seance-{run_id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', **PRIVATE},
    )


@router.get("/exercices/{drill_id}/seances/{run_id}/chronologie.png")
async def report_chart(
    drill_id: RowId, run_id: RowId, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    report = await _report(db, actor, drill_id, run_id, clock.now())
    chart = await asyncio.to_thread(exercise_chart.png, report)
    if chart is None:
        raise NotFound("no_chart", "Rien à représenter pour cette séance.")
    return Response(chart, media_type="image/png", headers=PRIVATE)
