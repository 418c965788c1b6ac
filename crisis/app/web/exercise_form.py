"""Planning a drill from the pages (trainers): the form, and its refusals shown in French."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import col, select

from contacts.directory import Contact, ContactAudience
from crisis.actors import Actor
from crisis.app.actions import CallerDep
from crisis.app.auth import CsrfChecked, CurrentActor, DbDep
from crisis.app.library import playbook_library
from crisis.app.web.bulletin_form import communes_of
from crisis.app.web.lifecycle_pages import paris_local
from crisis.app.web.templating import flash, render
from crisis.errors import InvalidInput
from exercises import programme
from exercises.programme import KIND_LABELS, TRAINERS, DrillKind, DrillSpec

router = APIRouter(include_in_schema=False)
PLANNED_KINDS = (DrillKind.CRISIS, DrillKind.ON_CALL)


async def drill_form(
    request: Request, db: DbDep, actor: Actor, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """The planning form; also the edit form (`action`, `heading`, `fixed_kind`, …)."""
    actor.require(*TRAINERS, action="programmer un exercice")
    async with db.read() as session:
        query = (
            select(Contact)
            .where(Contact.audience == ContactAudience.EXERCISE, col(Contact.active))
            .order_by(col(Contact.last_name), col(Contact.id))
        )
        players = list((await session.exec(query)).all())
    return render(
        request,
        "exercises/new.html",
        status,
        kinds=[(k.value, KIND_LABELS[k]) for k in PLANNED_KINDS],
        playbooks=sorted(playbook_library().values(), key=lambda p: p.title),
        players=context.pop("players", players),
        form=context.pop("form", {}),
        **context,
    )


@router.get("/exercices/nouveau")
async def new_drill_page(request: Request, actor: CurrentActor, db: DbDep) -> HTMLResponse:
    return await drill_form(request, db, actor)


def _spec(form: dict[str, Any]) -> DrillSpec:
    when = str(form.get("starts_at") or "").strip()
    rule = str(form.get("rrule") or "").strip()
    starts_at = paris_local(when) if when else None
    if when and starts_at is None:
        raise InvalidInput("invalid_starts_at", "Date de lancement illisible.")
    try:
        people = [int(p) for p in form.get("participants", [])]
        kind = DrillKind(str(form.get("kind") or ""))
    except ValueError as error:
        raise InvalidInput("invalid_form", "Formulaire invalide.") from error
    return DrillSpec(
        title=str(form.get("title") or ""),
        kind=kind,
        playbook=str(form.get("playbook") or "") or None,
        communes=communes_of(str(form.get("communes") or "")),
        participants=people,
        starts_at=starts_at,
        rrule=rule or None,
        confirm_first=bool(form.get("confirm_first")),
    )


@router.post("/exercices/nouveau", dependencies=[CsrfChecked])
async def new_drill_submit(request: Request, caller: CallerDep, db: DbDep) -> Response:
    data = await request.form()
    form: dict[str, Any] = {k: data.get(k) for k in data if k != "participants"}
    form["participants"] = [v for v in data.getlist("participants") if isinstance(v, str)]
    try:
        spec = _spec(form)
        async with db.transaction() as session:
            drill = await programme.create(
                session,
                actor=caller.actor,
                spec=spec,
                playbooks=playbook_library(),
                now=caller.now,
            )
    except InvalidInput as error:
        return await drill_form(
            request, db, caller.actor, status=422, errors=[error.message], form=form
        )
    flash(request, "success", f"Exercice « {drill.title} » programmé.")
    return RedirectResponse(f"/exercices/{drill.id}", status_code=303)
