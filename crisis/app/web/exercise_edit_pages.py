"""Changing or removing a drill from its page (trainers): the « Modifier » form (the planning
form, filled in) and « Supprimer », confirmed by a checkbox. The domain decides
(`exercises.editing`); a refusal is shown in French on the form or the drill page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from crisis.app.actions import CallerDep
from crisis.app.auth import CsrfChecked, CurrentActor, DbDep
from crisis.app.library import playbook_library
from crisis.app.paths import RowId
from crisis.app.web.bulletin_form import communes_of
from crisis.app.web.exercise_form import drill_form
from crisis.app.web.lifecycle_pages import act_then_show, paris_local
from crisis.app.web.templating import flash
from crisis.errors import Conflict, InvalidInput
from exercises import editing, programme, scenarios
from exercises.editing import DrillChanges
from exercises.programme import KIND_LABELS, Drill, DrillKind
from exercises.schedule import PARIS

router = APIRouter(include_in_schema=False)
REMOVED = {
    "deleted": "Exercice supprimé.",
    "archived": "Exercice archivé : il quitte le programme, ses séances et leurs bilans restent.",
}


def _local_input(value: datetime | None) -> str:
    return value.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M") if value else ""


def _filled(drill: Drill) -> dict[str, Any]:
    return {
        "title": drill.title,
        "playbook": drill.playbook_key,
        "communes": ", ".join(drill.communes),
        "participants": [str(p) for p in drill.participants],
        "starts_at": _local_input(drill.starts_at),
        "rrule": drill.rrule or "",
        "confirm_first": drill.confirm_first,
    }


async def _edit_form(
    request: Request, db: DbDep, actor: Actor, drill: Drill, **context: Any
) -> HTMLResponse:
    extra: dict[str, Any] = {}
    if drill.kind == DrillKind.REACHABILITY:
        extra["players"] = None  # officials, not exercise players: changed through the API
    return await drill_form(
        request,
        db,
        actor,
        action=f"/exercices/{drill.id}/modifier",
        heading=f"Modifier « {drill.title} »",
        refused_title="L'exercice n'a pas été modifié",
        submit_label="Enregistrer les modifications",
        fixed_kind=KIND_LABELS.get(drill.kind, drill.kind),
        **extra,
        **context,
    )


@router.get("/exercices/{drill_id}/modifier")
async def edit_drill_page(
    drill_id: RowId, request: Request, actor: CurrentActor, db: DbDep
) -> HTMLResponse:
    actor.require(*programme.TRAINERS, action="modifier un exercice")
    async with db.read() as session:
        drill = await programme.get(session, drill_id=drill_id)
    return await _edit_form(request, db, actor, drill, form=_filled(drill))


def _schedule(drill: Drill, form: dict[str, Any]) -> dict[str, Any]:
    """The schedule fields that change (none when the form shows the drill's own)."""
    when = str(form.get("starts_at") or "").strip()
    rule = str(form.get("rrule") or "").strip()
    if not when and not rule:
        raise InvalidInput(
            "schedule_required",
            "Indiquez soit une date de lancement unique, soit une règle de récurrence.",
        )
    starts_at = paris_local(when) if when else None
    if when and starts_at is None:
        raise InvalidInput("invalid_starts_at", "Date de lancement illisible.")
    if when == _local_input(drill.starts_at) and rule == (drill.rrule or ""):
        return {}
    return {"starts_at": starts_at, "rrule": rule or None}


def _changes(drill: Drill, form: dict[str, Any]) -> DrillChanges:
    try:
        people = [int(p) for p in form.get("participants", [])]
    except ValueError as error:
        raise InvalidInput("invalid_form", "Formulaire invalide.") from error
    crisis = drill.kind == DrillKind.CRISIS
    return DrillChanges(
        title=str(form.get("title") or ""),
        playbook=(str(form.get("playbook") or "") or None) if crisis else None,
        communes=communes_of(str(form.get("communes") or "")) if crisis else None,
        participants=None if drill.kind == DrillKind.REACHABILITY else people,
        confirm_first=bool(form.get("confirm_first")),
        **_schedule(drill, form),
    )


def _unchanged(drill: Drill, changes: DrillChanges) -> DrillChanges:
    """Only what differs: a run under way keeps what it uses, and an unchanged field must not
    be refused for it."""
    same = {
        "title": drill.title,
        "playbook": drill.playbook_key,
        "communes": list(drill.communes),
        "participants": list(drill.participants),
        "confirm_first": drill.confirm_first,
    }
    kept = {k: v for k, v in same.items() if getattr(changes, k) is not None}
    differ = {k: getattr(changes, k) for k in kept if _listed(getattr(changes, k)) != kept[k]}
    schedule = {k: getattr(changes, k) for k in ("starts_at", "rrule", "first_at")}
    return DrillChanges(**differ, **{k: v for k, v in schedule.items() if v is not None})


def _listed(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


@router.post("/exercices/{drill_id}/modifier", dependencies=[CsrfChecked])
async def edit_drill_submit(
    drill_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    data = await request.form()
    form: dict[str, Any] = {k: data.get(k) for k in data if k != "participants"}
    form["participants"] = [v for v in data.getlist("participants") if isinstance(v, str)]
    async with db.read() as session:
        drill = await programme.get(session, drill_id=drill_id)
    try:
        changes = _unchanged(drill, _changes(drill, form))
        if not changes.named():
            flash(request, "info", "Aucune modification : l'exercice reste tel quel.")
            return RedirectResponse(f"/exercices/{drill_id}", status_code=303)
        async with db.transaction() as session:
            await editing.change(
                session,
                actor=caller.actor,
                drill_id=drill_id,
                changes=changes,
                playbooks=playbook_library(),
                now=caller.now,
            )
    except (InvalidInput, Conflict) as error:  # 422 bad input, 409 a run uses what changes
        return await _edit_form(
            request, db, caller.actor, drill, status=error.status, errors=[error.message], form=form
        )
    flash(request, "success", "Exercice modifié.")
    return RedirectResponse(f"/exercices/{drill_id}", status_code=303)


@router.post("/exercices/{drill_id}/supprimer", dependencies=[CsrfChecked])
async def remove_drill(
    drill_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirm != "1":
        flash(request, "error", "Cochez la case de confirmation pour supprimer l'exercice.")
        return RedirectResponse(f"/exercices/{drill_id}", status_code=303)
    outcome: list[str] = []

    async def step(session: AsyncSession) -> str:
        outcome.append(
            await editing.remove(session, actor=caller.actor, drill_id=drill_id, now=caller.now)
        )
        return outcome[0]

    shown = await act_then_show(
        request, db, step, lambda result: REMOVED[result], location=f"/exercices/{drill_id}"
    )
    return RedirectResponse("/exercices", status_code=303) if outcome else shown


@router.post("/exercices/{drill_id}/scenario", dependencies=[CsrfChecked])
async def take_scenario(
    drill_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> Response:
    return await act_then_show(
        request,
        db,
        lambda s: scenarios.take(
            s, actor=caller.actor, drill_id=drill_id, playbooks=playbook_library(), now=caller.now
        ),
        lambda taken: f"Scénario de la fiche réflexe repris : {len(taken)} inject(s).",
        location=f"/exercices/{drill_id}",
    )
