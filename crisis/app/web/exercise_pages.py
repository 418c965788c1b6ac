"""The trainers' pages: the programme of drills, a drill with its runs, launch and STOP EXERCICE."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor, Role
from crisis.app.actions import CallerDep
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep, SettingsDep
from crisis.app.library import playbook_library
from crisis.app.paths import RowId
from crisis.app.policies import launch_rules
from crisis.app.settings import Settings
from crisis.app.web.exercise_agenda import agenda_path
from crisis.app.web.exercise_trend_pages import trend_views
from crisis.app.web.lifecycle_pages import act_then_show
from crisis.app.web.templating import format_paris, render
from crisis.labels import AUDIENCE_LABELS
from exercises import (
    approval,
    asking,
    compliance,
    ending,
    injects,
    launching,
    messages,
    scenarios,
    views,
)

router = APIRouter(include_in_schema=False)
LOCAL_KEYS = (
    "last_run_at",
    "next_run_at",
    "occurrence_at",
    "launched_at",
    "ended_at",
    "paged_at",
    "answered_at",
    "played_at",
    "done_at",
    "due_at",
    "deadline",
    "injects_paused_at",
    "archived_at",
)


def _local(view: dict[str, Any]) -> dict[str, Any]:
    """The view with each instant also shown in Paris time (`…_local`), nested lists too."""
    shown = dict(view)
    for key, value in view.items():
        if key in LOCAL_KEYS:
            shown[f"{key}_local"] = format_paris(datetime.fromisoformat(value) if value else None)
        elif isinstance(value, list):
            shown[key] = [_local(v) if isinstance(v, dict) else v for v in value]
        elif isinstance(value, dict):
            shown[key] = _local(value)
    return shown


async def compliance_panel(
    session: AsyncSession, *, actor: Actor, now: datetime, settings: Settings
) -> list[dict[str, Any]]:
    """The dashboard's ES49 panel: for the trainers and the prefect only (none for others)."""
    if not actor.roles & {Role.TRAINER, Role.PREFECT}:
        return []
    kinds = await compliance.status(session, now=now, cadence_days=settings.exercise_cadence_days)
    return [_local(k.view()) for k in kinds]


@router.get("/exercices")
async def programme_page(
    request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    async with db.read() as session:
        drills = await views.drills(session, actor=actor)
        kinds = await compliance_panel(session, actor=actor, now=clock.now(), settings=settings)
        kind_trends = await trend_views(session, actor=actor)
    agenda = agenda_path(settings, actor.user_id) if actor.user_id else None
    return render(
        request,
        "exercises/programme.html",
        drills=[_local(d) for d in drills],
        compliance=kinds,
        trends=kind_trends,
        can_plan=Role.TRAINER in actor.roles,
        agenda=f"{settings.base_url.rstrip('/')}{agenda}" if agenda else None,
    )


@router.get("/exercices/{drill_id}")
async def drill_page(
    drill_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    async with db.read() as session:
        drill = await views.drill_detail(session, actor=actor, drill_id=drill_id)
        latest = drill["runs"][0] if drill["runs"] else None
        report = (
            await views.report(
                session, actor=actor, drill_id=drill_id, run_id=latest["id"], now=clock.now()
            )
            if latest
            else None
        )
        people = await messages.active_participants(session, drill["participants"])
    return render(
        request,
        "exercises/drill.html",
        drill=_local(drill),
        report=_local(report) if report else None,
        can_launch=Role.TRAINER in actor.roles,
        people=people,
        inject_audiences=[(a, AUDIENCE_LABELS.get(a, a)) for a in injects.AUDIENCES],
        inject_channels=injects.CHANNELS,
        can_approve=Role.PREFECT in actor.roles and drill["awaiting_approval"],
        playbook_scenario=scenarios.offered(drill["playbook"], playbook_library()),
    )


async def _act(
    request: Request,
    db: DbDep,
    drill_id: int,
    step: Callable[[AsyncSession], Awaitable[object]],
    done: str,
) -> Response:
    return await act_then_show(request, db, step, done, location=f"/exercices/{drill_id}")


@router.post("/exercices/{drill_id}/lancer", dependencies=[CsrfChecked])
async def launch(drill_id: RowId, request: Request, caller: CallerDep, db: DbDep) -> Response:
    rules = launch_rules(caller.settings)
    return await _act(
        request,
        db,
        drill_id,
        lambda s: launching.launch_now(
            s, actor=caller.actor, drill_id=drill_id, rules=rules, now=caller.now
        ),
        "Exercice lancé : les participants reçoivent le message de début d'exercice.",
    )


@router.post("/exercices/{drill_id}/approuver", dependencies=[CsrfChecked])
async def approve(drill_id: RowId, request: Request, caller: CallerDep, db: DbDep) -> Response:
    return await _act(
        request,
        db,
        drill_id,
        lambda s: approval.approve(s, actor=caller.actor, drill_id=drill_id, now=caller.now),
        "Test de joignabilité approuvé : il partira à sa date, ou quand un formateur le lance.",
    )


@router.post("/exercices/{drill_id}/seances/{run_id}/confirmer", dependencies=[CsrfChecked])
async def confirm(
    drill_id: RowId, run_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    rules = launch_rules(caller.settings)
    return await _act(
        request,
        db,
        drill_id,
        lambda s: launching.confirm(
            s, actor=caller.actor, drill_id=drill_id, run_id=run_id, rules=rules, now=caller.now
        ),
        "Lancement confirmé : les participants reçoivent le message de début d'exercice.",
    )


@router.post("/exercices/{drill_id}/seances/{run_id}/annuler", dependencies=[CsrfChecked])
async def decline(
    drill_id: RowId,
    run_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return await _act(
        request,
        db,
        drill_id,
        lambda s: asking.decline(
            s, actor=caller.actor, drill_id=drill_id, run_id=run_id, reason=reason, now=caller.now
        ),
        "Séance annulée : rien n'est parti ; le prochain lancement reste programmé.",
    )


@router.post("/exercices/{drill_id}/seances/{run_id}/arreter", dependencies=[CsrfChecked])
async def stop(
    drill_id: RowId,
    run_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    rules = launch_rules(caller.settings)
    return await _act(
        request,
        db,
        drill_id,
        lambda s: ending.stop(
            s,
            actor=caller.actor,
            drill_id=drill_id,
            run_id=run_id,
            reason=reason,
            rules=rules,
            now=caller.now,
        ),
        "STOP EXERCICE : exercice arrêté, envois en attente annulés, participants prévenus.",
    )
