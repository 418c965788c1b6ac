"""The on-call roster page: read by everyone, edited by administrators and the prefect's office.

Add a shift, change one, swap two shifts' people, delete one, import a CSV file of shifts (dry
run, then « Importer ce fichier » without choosing it again). The services check the roles.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import UploadFile

from contacts import roster, roster_csv
from contacts.directory import Contact, ContactAudience
from crisis import accounts, directory, pending_imports, roster_edits
from crisis.actors import Actor
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep
from crisis.app.clock import paris
from crisis.app.errors import journal_refusal
from crisis.app.paths import RowId
from crisis.app.web import kept_imports
from crisis.app.web.lifecycle_pages import paris_local
from crisis.app.web.templating import flash, render
from crisis.errors import DomainError, Forbidden, InvalidInput, NotFound
from crisis.pending_imports import PendingImport

router = APIRouter(include_in_schema=False)
ROSTER_DAYS = 30
IMPORT_KIND = "roster"
MAX_ROSTER_FILE = 2_000_000


def local_input(value: datetime) -> str:
    """A `datetime-local` value in Paris time."""
    return f"{paris(value):%Y-%m-%dT%H:%M}"


async def _people(session: AsyncSession) -> dict[str, list[tuple[str, str]]]:
    """Who may hold a shift: Tocsin's users, then the directory's State services staff."""
    users = [u for u in await accounts.all_users(session) if u.active]
    staff = await session.exec(
        select(Contact)
        .where(
            Contact.audience == ContactAudience.STAFF.value,
            col(Contact.active).is_(True),
            col(Contact.erased).is_(False),
        )
        .order_by(col(Contact.last_name), col(Contact.first_name))
        .limit(500)
    )
    return {
        "Utilisateurs de Tocsin": [(f"user:{u.id}", u.display_name or u.login) for u in users],
        "Annuaire — services de l'État": [(f"contact:{c.id}", c.display_name) for c in staff],
    }


def _shift_label(shift: roster.Shift) -> str:
    duty = roster.DUTY_LABELS.get(shift.role, shift.role)
    return (
        f"{duty}, niveau {shift.level}, du {paris(shift.starts_at):%d/%m à %H h %M} "
        f"au {paris(shift.ends_at):%d/%m à %H h %M} — {shift.name}"
    )


@router.get("/astreinte")
async def roster_page(
    request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    now = clock.now()
    editable = roster_edits.may_edit(actor)
    async with db.read() as session:
        duty = await roster.on_duty(session, at=now)
        gaps = await roster.roster_gaps(session, now=now, days=ROSTER_DAYS)
        shifts = await roster.shifts_between(
            session, start=now, end=now + timedelta(days=ROSTER_DAYS)
        )
        people = await _people(session) if editable else {}
    return render(
        request,
        "directory/roster.html",
        duties=roster.DUTY_LABELS,
        duty=duty,
        gaps=gaps,
        uncovered=roster.uncovered_hours(gaps),
        shifts=shifts,
        shift_labels={s.id: _shift_label(s) for s in shifts},
        now=now,
        editable=editable,
        people=people,
        blank={"starts_at": local_input(now), "ends_at": local_input(now + timedelta(days=7))},
    )


@dataclass(frozen=True, slots=True)
class ShiftForm:
    """The add and change forms' fields, as typed."""

    role: str
    level: int
    starts_at: str
    ends_at: str
    person: str

    def fields(self, active_users: dict[str, str]) -> roster.ShiftFields:
        """As the service takes them; InvalidInput (French) on an unreadable one."""
        starts_at, ends_at = paris_local(self.starts_at), paris_local(self.ends_at)
        if starts_at is None or ends_at is None:
            raise InvalidInput(
                "invalid_shift", "Indiquez le début et la fin du tour (date et heure)."
            )
        kind, _, raw_id = self.person.partition(":")
        if kind not in ("user", "contact") or not raw_id.isdigit():
            raise InvalidInput("invalid_shift", "Choisissez la personne d'astreinte.")
        fields = roster.ShiftFields(
            role=self.role, level=self.level, starts_at=starts_at, ends_at=ends_at
        )
        if kind == "contact":
            fields["contact_id"] = int(raw_id)
        elif self.person in active_users:
            fields["user_id"], fields["name"] = int(raw_id), active_users[self.person]
        else:
            raise InvalidInput("invalid_shift", "Cet utilisateur n'est pas actif.")
        return fields


async def _shift_form(
    role: Annotated[str, Form(max_length=20)],
    starts_at: Annotated[str, Form(max_length=40)],
    ends_at: Annotated[str, Form(max_length=40)],
    person: Annotated[str, Form(max_length=40)] = "",
    level: Annotated[int, Form(ge=1, le=3)] = 1,
) -> ShiftForm:
    return ShiftForm(role, level, starts_at, ends_at, person)


ShiftFormDep = Annotated[ShiftForm, Depends(_shift_form)]


async def _user_names(session: AsyncSession) -> dict[str, str]:
    return {
        f"user:{u.id}": u.display_name or u.login
        for u in await accounts.all_users(session)
        if u.active
    }


async def _refused(request: Request, error: DomainError, back: str) -> Response:
    if isinstance(error, Forbidden):
        raise error
    if error.journaled:
        await journal_refusal(request, code=error.code, message=error.message, status=error.status)
    flash(request, "error", error.message)
    return RedirectResponse(back, status_code=303)


@router.post("/astreinte/tours", dependencies=[CsrfChecked])
async def add_shift(
    request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep, form: ShiftFormDep
) -> Response:
    try:
        async with db.transaction() as session:
            fields = form.fields(await _user_names(session))
            await directory.add_shift(session, actor=actor, now=clock.now(), **fields)
    except DomainError as error:
        return await _refused(request, error, "/astreinte#ajouter")
    flash(request, "success", "Tour d'astreinte ajouté.")
    return RedirectResponse("/astreinte#tours", status_code=303)


@router.get("/astreinte/tours/{shift_id}/modifier")
async def edit_page(
    shift_id: RowId, request: Request, actor: CurrentActor, db: DbDep
) -> HTMLResponse:
    actor.require(*roster_edits.EDIT_ROLES, action=roster_edits.ACTION)
    async with db.read() as session:
        shift = await session.get(roster.Shift, shift_id)
        if shift is None:
            raise NotFound("shift_not_found", f"Aucun tour d'astreinte n° {shift_id}.")
        people = await _people(session)
    person = f"user:{shift.user_id}" if shift.user_id else f"contact:{shift.contact_id}"
    return render(
        request,
        "directory/shift_edit.html",
        duties=roster.DUTY_LABELS,
        shift=shift,
        people=people,
        values={
            "role": shift.role,
            "level": shift.level,
            "starts_at": local_input(shift.starts_at),
            "ends_at": local_input(shift.ends_at),
            "person": person,
        },
    )


@router.post("/astreinte/tours/{shift_id}", dependencies=[CsrfChecked])
async def change_shift(
    shift_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    form: ShiftFormDep,
) -> Response:
    try:
        async with db.transaction() as session:
            fields = form.fields(await _user_names(session))
            await roster_edits.change_shift(
                session, actor=actor, shift_id=shift_id, now=clock.now(), **fields
            )
    except DomainError as error:
        return await _refused(request, error, f"/astreinte/tours/{shift_id}/modifier")
    flash(request, "success", "Tour d'astreinte modifié.")
    return RedirectResponse("/astreinte#tours", status_code=303)


@router.post("/astreinte/tours/{shift_id}/suppression", dependencies=[CsrfChecked])
async def delete_shift(
    shift_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    try:
        async with db.transaction() as session:
            await roster_edits.delete_shift(
                session, actor=actor, shift_id=shift_id, now=clock.now()
            )
    except DomainError as error:
        return await _refused(request, error, "/astreinte#tours")
    flash(request, "success", "Tour d'astreinte supprimé.")
    return RedirectResponse("/astreinte#tours", status_code=303)


@router.post("/astreinte/echange", dependencies=[CsrfChecked])
async def swap_shifts(
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    first: Annotated[int, Form(ge=1)],
    second: Annotated[int, Form(ge=1)],
) -> Response:
    try:
        async with db.transaction() as session:
            await roster_edits.swap_shifts(
                session, actor=actor, first_id=first, second_id=second, now=clock.now()
            )
    except DomainError as error:
        return await _refused(request, error, "/astreinte#echanger")
    flash(request, "success", "Les deux tours ont échangé leurs personnes.")
    return RedirectResponse("/astreinte#tours", status_code=303)


def _import_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    return render(
        request,
        "directory/roster_import.html",
        status,
        header=";".join(roster_csv.HEADER),
        **context,
    )


@router.get("/astreinte/import")
async def import_page(request: Request, actor: CurrentActor) -> HTMLResponse:
    actor.require(*roster_edits.EDIT_ROLES, action=roster_edits.ACTION)
    return _import_page(request, report=None, dry_run=True)


async def _apply(
    db: DbDep, actor: Actor, *, content: bytes, filename: str, dry_run: bool, now: datetime
) -> roster_edits.RosterImportReport:
    async with db.transaction() as session:
        return await roster_edits.import_shifts(
            session,
            actor=actor,
            stream=io.BytesIO(content),
            now=now,
            dry_run=dry_run,
            filename=filename,
        )


@router.post("/astreinte/import", dependencies=[CsrfChecked])
async def import_submit(
    request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    actor.require(*roster_edits.EDIT_ROLES, action=roster_edits.ACTION)
    form = await request.form()
    upload, dry_run = form.get("file"), form.get("dry_run") is not None
    if not isinstance(upload, UploadFile):
        return _import_page(
            request, 422, report=None, dry_run=dry_run, error="Choisissez un fichier."
        )
    content = await upload.read(MAX_ROSTER_FILE + 1)
    if len(content) > MAX_ROSTER_FILE:
        return _import_page(
            request,
            413,
            report=None,
            dry_run=dry_run,
            error="Fichier trop volumineux (2 Mo au plus).",
        )
    filename = upload.filename or ""
    now = clock.now()
    report = await _apply(db, actor, content=content, filename=filename, dry_run=dry_run, now=now)
    kept = None
    if report.ok and dry_run and report.added:
        kept = await kept_imports.keep_checked(
            request, db, kind=IMPORT_KIND, fmt="csv", filename=filename, content=content, now=now
        )
    return _import_page(
        request,
        200 if report.ok else 422,
        report=report,
        dry_run=dry_run,
        filename=filename,
        kept=kept,
    )


@router.post("/astreinte/import/confirmation", dependencies=[CsrfChecked])
async def import_confirm(
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    sha256: Annotated[str, Form(pattern=kept_imports.DIGEST_PATTERN)],
) -> HTMLResponse:
    actor.require(*roster_edits.EDIT_ROLES, action=roster_edits.ACTION)

    async def run(session: AsyncSession, kept: PendingImport) -> roster_edits.RosterImportReport:
        return await roster_edits.import_shifts(
            session,
            actor=actor,
            stream=io.BytesIO(kept.content),
            now=clock.now(),
            filename=kept.filename,
        )

    applied = await kept_imports.apply_kept(
        request, db, kind=IMPORT_KIND, sha256=sha256, now=clock.now(), run=run
    )
    if applied is None:
        return _import_page(request, 409, report=None, dry_run=True, error=pending_imports.GONE)
    kept, report = applied
    return _import_page(
        request, 200 if report.ok else 422, report=report, dry_run=False, filename=kept.filename
    )
