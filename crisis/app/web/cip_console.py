"""The CIP page: the operator console (validated facts, FAQ, call form) with the CIP's state,
staffing and the cabinet's actions; and the CIP section of the crisis page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from crisis.actors import Actor, Role
from crisis.app.actions import Caller, CallerDep
from crisis.app.auth import CurrentActor, DbDep
from crisis.app.clock import paris
from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.app.paths import RowId
from crisis.app.policies import cip_rules
from crisis.app.web import live_stream
from crisis.app.web.cip_requests import written_context
from crisis.app.web.templating import render
from crisis.cell import crises, overview
from crisis.cell.clocks import ClockCode
from crisis.cell.crises import Crisis
from crisis.cip import calls, debrief, faq, figures, numbers, pager, privacy, record, staffing
from crisis.cip import facts as validated
from crisis.cip.calls import CipCall
from crisis.cip.faq import APPROVERS, WRITERS
from crisis.cip.vocabulary import CIP_ROLE_LABELS, CIP_STATE_LABELS, TOPIC_LABELS, CipRole, CipState

router = APIRouter(include_in_schema=False)
RECENT_CALLS = 10
"""The console's live list shows the calls logged last, by anyone in the CIP."""


def abilities(actor: Actor, *, present: bool, head: bool) -> dict[str, bool]:
    """What the page offers; the services refuse the rest anyway."""
    roles = actor.roles
    return {
        "prefect": Role.PREFECT in roles,
        "operator": Role.OPERATOR in roles,
        "present": present,
        "log_calls": Role.OPERATOR in roles and present,
        "open": Role.PREFECT in roles or head,
        "write_faq": bool(roles & set(WRITERS)),
        "approve_faq": bool(roles & set(APPROVERS)),
        "callbacks": privacy.sees_callback_numbers(actor),
    }


def _announcement(crisis: Crisis) -> str | None:
    """The composer on the playbook's template announcing the CIP's number (`cip_opening`)."""
    playbook = crises.playbook_for(crisis.kind, playbook_library())
    chosen = next(
        (
            t.key
            for t in (playbook.templates if playbook else [])
            if t.purpose == "cip_opening" and t.channel is None
        ),
        None,
    )
    if chosen is None:
        return None
    return f"/evenements/{crisis.id}/communiques/nouveau?modele={chosen}"


def _may_debrief(
    cip: record.Cip | None,
    shifts: list[record.CipShift],
    written: list[debrief.CipDebrief],
    actor: Actor,
) -> bool:
    """The debrief form: the CIP closed, a shift held, no debrief written yet."""
    if cip is None or cip.closed_at is None:
        return False
    held = any(s.user_id == actor.user_id for s in shifts)
    return held and not any(d.user_id == actor.user_id for d in written)


async def _commune_names(session: AsyncSession, logged: Sequence[CipCall]) -> dict[str, str]:
    """The names of the communes the logged calls came from, by INSEE code."""
    codes = sorted({c.commune for c in logged if c.commune})
    return {c.code: c.name for c in await geography.communes_by_code(session, codes=codes)}


async def console_context(db: Database, *, crisis_id: int, caller: Caller) -> dict[str, Any]:
    """Everything the CIP page and the crisis page's CIP section show, as `caller` may see it."""
    actor, now = caller.actor, caller.now
    rules = cip_rules(caller.settings)
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        cip = await record.find(session, crisis_id=crisis_id)
        shifts = await record.shifts(session, crisis_id=crisis_id) if cip else []
        facts = await validated.published(session, crisis_id=crisis_id)
        entries = await faq.listing(session, crisis_id=crisis_id, approved_only=False)
        logged = await calls.for_crisis(session, crisis_id=crisis_id)
        states = await overview.clock_states(session, crises=[crisis], now=now)
        debriefs = await debrief.for_crisis(session, crisis_id=crisis_id)
        paged = await pager.pages(session, crisis_id=crisis_id) if cip else []
        written = await written_context(session, crisis_id=crisis_id, now=now)
        names = await _commune_names(session, logged)
    present = [s for s in shifts if s.checked_out_at is None]
    mine = next((s for s in present if s.user_id == actor.user_id), None)
    heads = {s.user_id for s in present if s.role == CipRole.HEAD}
    es50 = next((s for s in states.get(crisis_id, []) if s.code == ClockCode.ES50), None)
    return {
        "announce_href": _announcement(crisis) if cip and cip.closed_at is None else None,
        "crisis": crisis,
        "exercise": crisis.is_exercise,  # the banner « EXERCICE — EXERCICE — EXERCICE »
        "cip": cip,
        "cip_state": cip.state.value if cip else None,
        "number_display": numbers.shown(cip.number) if cip else None,
        "es50": es50,
        "present": present,
        "my_shift": mine,
        "handovers": [s for s in reversed(shifts) if s.handover_note][:3],
        "paged": pager.page_states(paged, shifts),
        "missing": staffing.gaps(present, minimum=rules.min_staffing),
        "min_staffing": rules.min_staffing,
        "facts": facts,
        "faq_items": [i for i in entries if i.entry.status == "approved"],
        "faq_pending": [i for i in entries if i.entry.status != "approved"],
        "figures": figures.of(logged),
        "follow_ups": [c for c in logged if c.follow_up and c.follow_up_done_at is None],
        "recent_calls": sorted(logged, key=lambda c: (c.received_at, c.id or 0), reverse=True)[
            :RECENT_CALLS
        ],
        "commune_names": names,
        "can": abilities(actor, present=mine is not None, head=actor.user_id in heads),
        "debriefs": debriefs,
        "may_debrief": _may_debrief(cip, shifts, debriefs, actor),
        "server_now": now.isoformat(),
        "call_key": uuid.uuid4().hex,  # a resubmitted call (its answer lost) is saved once
        "now_local": paris(now).strftime("%Y-%m-%dT%H:%M"),
        "topic_labels": TOPIC_LABELS,
        "cip_role_labels": CIP_ROLE_LABELS,
        "cip_state_labels": CIP_STATE_LABELS,
        "open_state": CipState.OPEN.value,
        "show_number": privacy.sees_callback_numbers(actor),
        "shown_number": numbers.shown,
        **written,
    }


@router.get("/evenements/{crisis_id}/cip")
async def cip_console(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> HTMLResponse:
    context = await console_context(db, crisis_id=crisis_id, caller=caller)
    saved = request.query_params.get("appel", "")
    suggested = request.query_params.get("question", "")[:1000]  # a question to answer
    return render(
        request,
        "cip/console.html",
        saved_call=saved if saved.isdigit() else "",
        form={"faq_question": suggested},
        **context,
    )


@router.get("/fragments/evenements/{crisis_id}/cip")
async def cip_section(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> HTMLResponse:
    """The crisis page's CIP section: state, staffing and the cabinet's figures."""
    context = await console_context(db, crisis_id=crisis_id, caller=caller)
    return render(request, "cip/figures.html", **context)


@router.get("/fragments/evenements/{crisis_id}/cip/console")
async def cip_console_live(
    crisis_id: RowId, request: Request, caller: CallerDep, db: DbDep
) -> HTMLResponse:
    """The console's live region: the figures and the last calls, the same for every viewer
    (no callback number), re-rendered once per change of the crisis' topic."""

    async def fresh() -> HTMLResponse:
        context = await console_context(db, crisis_id=crisis_id, caller=caller)
        return render(request, "cip/console_live.html", **context)

    return await live_stream.shared_fragment(request, f"evenement:{crisis_id}", (), fresh)


@router.get("/cip")
async def cip_home(request: Request, actor: CurrentActor, db: DbDep) -> Response:
    """The operators' entry: the console of the one CIP running, or the list of those running."""
    async with db.read() as session:
        running = await record.not_closed(session)
        titles = {
            c.crisis_id: (await crises.get(session, crisis_id=c.crisis_id)).title for c in running
        }
    if len(running) == 1:
        return RedirectResponse(f"/evenements/{running[0].crisis_id}/cip", status_code=303)
    return render(
        request,
        "cip/home.html",
        running=running,
        titles=titles,
        shown_number=numbers.shown,
        cip_state_labels=CIP_STATE_LABELS,
    )
