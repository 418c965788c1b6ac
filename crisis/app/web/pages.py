"""Server-rendered pages: dashboard, crisis, journal (login: `login_pages`; the live stream:
`live_stream`)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contacts import geography, roster
from contacts.roster import DUTY_LABELS
from crisis import journal, privacy, replies
from crisis.actors import Actor, Role
from crisis.app import actions
from crisis.app.actions import CallerDep
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep, SettingsDep
from crisis.app.clock import paris
from crisis.app.paths import RowId
from crisis.app.web import first_hour, live_stream
from crisis.app.web.bulletin_form import communes_of
from crisis.app.web.exercise_pages import compliance_panel
from crisis.app.web.journal_pages import CRISIS_PAGE_ENTRIES
from crisis.app.web.review_queues import review_queues
from crisis.app.web.shared_clocks import shared_clocks
from crisis.app.web.shared_pages import not_before, request_journal_head, shared_page
from crisis.app.web.templating import flash, render
from crisis.bulletin.workflow import REVIEWERS
from crisis.cell import checklist, clocks, crises, paging
from crisis.cell.checklist import STAFF_ROLES
from crisis.cell.crises import Crisis
from crisis.errors import DomainError
from crisis.labels import KIND_LABELS
from crisis.vocabulary import CrisisMode

router = APIRouter(include_in_schema=False)
router.add_api_route("/flux", live_stream.live_stream, methods=["GET"])


async def _board(request: Request, db: DbDep, now: datetime) -> dict[str, Any]:
    async with db.read() as session:
        rows = await crises.listing(session)
    open_rows = [c for c in rows if c.is_open]
    states = await shared_clocks(request.app).states(open_rows, now, not_before=not_before(request))
    return {"crises": rows, "open_crises": open_rows, "states": states, "now": now}


@router.get("/")
async def dashboard(
    request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    reviews = bool(actor.roles & REVIEWERS)
    head = await request_journal_head(request)
    to_review: list[Any] = []
    if reviews:  # four eyes: never what they wrote, so their own list
        to_review = await review_queues(request).get(request, actor, head)

    async def readiness(now: datetime) -> tuple[list[Any], Any]:
        async with db.read() as session:
            gaps = await roster.roster_gaps(session, now=now)
            return gaps, await compliance_panel(session, actor=actor, now=now, settings=settings)

    async def fresh() -> HTMLResponse:
        now = clock.now()
        board, (gaps, drills) = await asyncio.gather(_board(request, db, now), readiness(now))
        return render(
            request,
            "dashboard.html",
            can_declare=Role.PREFECT in actor.roles,
            reviews=reviews,
            to_review=to_review,
            roster_gap_hours=roster.uncovered_hours(gaps),
            first_gap=min(gaps, key=lambda g: g.starts_at) if gaps else None,
            compliance=drills,
            **board,
        )

    visibility = (_roles(actor), *(b.id for b in to_review))
    return await shared_page(request, visibility, fresh, head=head)


def _roles(actor: Actor) -> tuple[str, ...]:
    """A viewer's visibility class: what a role may see is all that differs (`crisis.privacy`)."""
    return tuple(sorted(actor.roles))


@router.get("/fragments/evenements")
async def crisis_list_fragment(
    request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    async def fresh() -> HTMLResponse:
        return render(
            request, "fragments/crisis_list.html", **await _board(request, db, clock.now())
        )

    return await live_stream.shared_fragment(request, live_stream.BOARD, (), fresh)


async def _new_crisis_form(request: Request, db: DbDep, **context: Any) -> HTMLResponse:
    form = context.pop("form", {})
    async with db.read() as session:
        arrondissements = await geography.arrondissements(session)
    return render(
        request,
        "crisis_new.html",
        status=422 if context.get("errors") else 200,
        kinds=list(KIND_LABELS.items()),
        arrondissements=arrondissements,
        form=form,
        form_exercise=form.get("mode") == CrisisMode.EXERCISE,
        **context,
    )


@router.get("/evenements/nouveau")
async def new_crisis_page(request: Request, actor: CurrentActor, db: DbDep) -> HTMLResponse:
    actor.require(Role.PREFECT, action="déclarer un événement majeur")
    return await _new_crisis_form(request, db)


async def _communes_of(
    db: DbDep, communes: str, arrondissement: str
) -> tuple[list[str], list[str]]:
    """The INSEE codes typed or named (« Nom (code) » as the autocomplete writes them, as in
    the composer), plus an arrondissement's or the whole département's;
    and what was not recognised."""
    async with db.read() as session:
        codes, unknown = await geography.resolve(session, items=communes_of(communes))
        if arrondissement == "departement":  # « Tout le département » : all its communes
            departements = {a.departement for a in await geography.arrondissements(session)}
            codes += await geography.expand_area(session, departements=sorted(departements))
        elif arrondissement:
            codes += await geography.communes_of_arrondissement(session, code=arrondissement)
    return list(dict.fromkeys(codes)), unknown


@router.post("/evenements/nouveau", dependencies=[CsrfChecked])
async def new_crisis_submit(
    request: Request,
    caller: CallerDep,
    db: DbDep,
    title: Annotated[str, Form(max_length=200)],
    kind: Annotated[str, Form(max_length=40)],
    mode: Annotated[CrisisMode, Form()],
    communes: Annotated[str, Form(max_length=20_000)] = "",
    arrondissement: Annotated[str, Form(max_length=12)] = "",
    activate_cell: Annotated[bool, Form()] = False,
) -> Response:
    form = {"title": title, "kind": kind, "mode": mode, "communes": communes}
    form["arrondissement"] = arrondissement
    codes, unknown = await _communes_of(db, communes, arrondissement)
    if unknown:
        errors = ["Communes non reconnues : " + ", ".join(unknown)]
        return await _new_crisis_form(request, db, form=form, errors=errors)
    try:
        async with db.transaction() as session:
            crisis = await actions.declare(
                session,
                caller,
                title=title,
                kind=kind,
                mode=mode,
                communes=codes,
                activate_cell=activate_cell,
            )
    except DomainError as error:
        if error.journaled:
            raise
        return await _new_crisis_form(request, db, form=form, errors=[error.message])
    flash(request, "success", f"Événement n° {crisis.id} déclaré.")
    return RedirectResponse(f"/evenements/{crisis.id}", status_code=303)


async def _crisis(db: DbDep, crisis_id: int) -> Crisis:
    async with db.read() as session:
        return await crises.get(session, crisis_id=crisis_id)


async def _panel(
    request: Request, db: DbDep, crisis: Crisis, now: datetime, actor: Actor
) -> dict[str, Any]:
    """What the crisis page shows and refreshes live: clocks, cell, checklist.

    Recipients' names (ES48 coverage) and reply senders per `crisis.privacy`. The clocks and
    the rest are read side by side: on PostgreSQL each statement waits for a turn of the
    event loop, and a page waits for the longest of the two, not for their sum."""
    assert crisis.id is not None
    crisis_id, personal = crisis.id, privacy.sees_personal_data(actor)

    async def cell() -> tuple[Any, ...]:
        async with db.read() as session:
            items = await checklist.for_crisis(session, crisis_id=crisis_id)
            acks = await paging.acknowledgements(session, crisis_ids=[crisis_id])
            pages = await paging.pages_of(session, crisis_id=crisis_id)
            return items, acks, pages, await replies.unrecognised(session, crisis=crisis)

    clocks_due = shared_clocks(request.app).states([crisis], now, not_before=not_before(request))
    states, (items, acks, pages, unmatched) = await asyncio.gather(clocks_due, cell())
    return {
        "crisis": crisis,
        "clock_states": [clocks.seen_by(s, personal=personal) for s in states.get(crisis_id, [])],
        "steps": checklist.steps(items, triggered_at=checklist.triggers_seen(crisis), now=now),
        "acks": acks,
        "pages": pages,
        "unrecognised_replies": [
            replace(r, sender=privacy.sender(r.channel, r.sender, personal=personal))
            for r in unmatched
        ],
        "now": now,
        "duty_labels": DUTY_LABELS,
    }


@router.get("/evenements/{crisis_id}")
async def crisis_page(
    crisis_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> HTMLResponse:
    async def around(crisis: Crisis) -> tuple[Any, ...]:
        async with db.read() as session:
            communes = await geography.communes_by_code(session, codes=crisis.communes)
            entries, total = await journal.latest_for_crisis(
                session, crisis_id=crisis_id, limit=CRISIS_PAGE_ENTRIES
            )
            return communes, entries, total, await first_hour.informed_since_cod(session, crisis)

    async def fresh() -> HTMLResponse:
        now = clock.now()
        crisis = await _crisis(db, crisis_id)
        panel, (communes, entries, journal_total, informed) = await asyncio.gather(
            _panel(request, db, crisis, now, actor), around(crisis)
        )
        first = first_hour.context(
            crisis=crisis, states=panel["clock_states"], informed=informed, now=now
        )
        entries = privacy.journal_entries(entries, personal=privacy.sees_personal_data(actor))
        return render(
            request,
            "crisis.html",
            **first,
            communes=communes,
            entries=entries,
            journal_total=journal_total,
            exercise=crisis.is_exercise,
            can=_abilities(actor),
            min_staffing=settings.cell_min_staffing,
            now_local=paris(clock.now()).strftime("%Y-%m-%dT%H:%M"),
            **panel,
        )

    return await shared_page(request, (_roles(actor),), fresh)


def _abilities(actor: Actor) -> dict[str, bool]:
    roles = actor.roles
    return {
        "prefect": Role.PREFECT in roles,
        "operational": bool(roles & {Role.PREFECT, Role.COMMUNICATOR}),
        "staff": bool(roles & set(STAFF_ROLES)),
    }


@router.get("/fragments/evenements/{crisis_id}/tableau")
async def crisis_panel_fragment(
    crisis_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    can = _abilities(actor)

    async def fresh() -> HTMLResponse:
        crisis = await _crisis(db, crisis_id)
        panel = await _panel(request, db, crisis, clock.now(), actor)
        return render(request, "fragments/crisis_panel.html", can=can, **panel)

    visibility = (privacy.sees_personal_data(actor), *sorted(can.items()))
    topic = f"evenement:{crisis_id}"
    return await live_stream.shared_fragment(request, topic, visibility, fresh)
