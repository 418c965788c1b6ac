"""The main courante's pages: a crisis' (with the cabinet's form and its live fragment on the
crisis page) and the global one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crisis import journal, journal_verification, privacy
from crisis.actors import Actor
from crisis.app.actions import CallerDep
from crisis.app.auth import CsrfChecked, CurrentActor, DbDep
from crisis.app.errors import journal_refusal
from crisis.app.paths import RowId
from crisis.app.web import live_stream
from crisis.app.web.lifecycle_pages import paris_local
from crisis.app.web.templating import flash, render
from crisis.cell import cabinet, crises
from crisis.errors import DomainError, InvalidInput
from crisis.vocabulary import CabinetEntryKind

router = APIRouter(include_in_schema=False)

CRISIS_PAGE_ENTRIES = 50
"""The journal's last entries the crisis page shows; its main courante page has them all."""
JOURNAL_PAGE_ENTRIES = 5000
"""The last entries the crisis' main courante page shows (its hash check covers them all)."""


@router.get("/fragments/evenements/{crisis_id}/main-courante")
async def crisis_journal_fragment(
    crisis_id: RowId, request: Request, actor: CurrentActor, db: DbDep
) -> HTMLResponse:
    personal = privacy.sees_personal_data(actor)

    async def fresh() -> HTMLResponse:
        async with db.read() as session:
            entries, total = await journal.latest_for_crisis(
                session, crisis_id=crisis_id, limit=CRISIS_PAGE_ENTRIES
            )
        entries = privacy.journal_entries(entries, personal=personal)
        return render(
            request,
            "fragments/crisis_journal.html",
            crisis_id=crisis_id,
            entries=entries,
            journal_total=total,
        )

    topic = f"evenement:{crisis_id}"
    return await live_stream.shared_fragment(request, topic, (personal,), fresh)


async def _crisis_journal(
    request: Request, actor: Actor, db: DbDep, crisis_id: int, **context: Any
) -> HTMLResponse:
    """The crisis' main courante, narrowed by the page's filter, with the cabinet's form."""
    wanted = context.pop("wanted", cabinet.JournalFilter())
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        entries, total = await journal.latest_for_crisis(
            session, crisis_id=crisis_id, limit=JOURNAL_PAGE_ENTRIES
        )
        report = await journal_verification.verify(session, crisis_id=crisis_id)
    entries = privacy.journal_entries(entries, personal=privacy.sees_personal_data(actor))
    return render(
        request,
        "journal.html",
        status=context.pop("status", 200),
        crisis=crisis,
        entries=cabinet.narrowed(entries, wanted),
        loaded=len(entries),
        total=total,
        wanted=wanted,
        authors=cabinet.authors(entries),
        can_write=crisis.is_open and cabinet.may_write(actor, exercise=crisis.is_exercise),
        report=report,
        exercise=crisis.is_exercise,
        **context,
    )


@router.get("/evenements/{crisis_id}/main-courante")
async def crisis_journal_page(
    crisis_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    author: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    try:
        wanted = cabinet.parse_filter(kind, author, q)
    except DomainError as error:
        wanted, errors = cabinet.JournalFilter(), [error.message]
    else:
        errors = []
    return await _crisis_journal(request, actor, db, crisis_id, wanted=wanted, filter_errors=errors)


@router.post("/evenements/{crisis_id}/main-courante", dependencies=[CsrfChecked])
async def crisis_journal_write(
    crisis_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    kind: Annotated[CabinetEntryKind, Form()],
    text: Annotated[str, Form(max_length=20_000)] = "",
    occurred_at: Annotated[str, Form(max_length=40)] = "",
    source: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """« Ajouter à la main courante »: refused, the page comes back with what was typed."""
    try:
        when = paris_local(occurred_at) if occurred_at else None
        if occurred_at and when is None:
            raise InvalidInput("occurred_at_invalid", "Heure du fait illisible.")
        note = cabinet.CabinetNote(kind=kind, text=text, source=source, occurred_at=when)
        async with db.transaction() as session:
            await cabinet.record(
                session, actor=caller.actor, crisis_id=crisis_id, note=note, now=caller.now
            )
    except DomainError as refused:
        if refused.journaled:
            await journal_refusal(
                request, code=refused.code, message=refused.message, status=refused.status
            )
        form = {"kind": kind, "text": text, "occurred_at": occurred_at, "source": source}
        return await _crisis_journal(
            request,
            caller.actor,
            db,
            crisis_id,
            status=refused.status,
            errors=[refused.message],
            form=form,
        )
    flash(request, "success", "Entrée ajoutée à la main courante.")
    return RedirectResponse(f"/evenements/{crisis_id}/main-courante", status_code=303)


@router.get("/main-courante")
async def journal_page(request: Request, actor: CurrentActor, db: DbDep) -> HTMLResponse:
    async with db.read() as session:
        entries = await journal.recent(session, limit=500)
        report = await journal_verification.verify(session)
    entries = privacy.journal_entries(entries, personal=privacy.sees_personal_data(actor))
    return render(request, "journal.html", crisis=None, entries=entries, report=report)
