"""Directory pages: search, a person, the import with its report (the roster: `roster_pages`)."""

from __future__ import annotations

import io
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import UploadFile

from contacts import geography, listing, roster
from contacts.directory import FUNCTION_LABELS, Contact, ContactAudience
from contacts.importer import ImportFormat, ImportReport
from crisis import directory, pending_imports, privacy
from crisis.actors import Role
from crisis.app.api.contacts import run_import
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep
from crisis.app.paths import RowId
from crisis.app.web import kept_imports
from crisis.app.web.templating import flash, render
from crisis.errors import NotFound
from crisis.labels import AUDIENCE_LABELS, CHANNEL_LABELS
from crisis.pending_imports import PendingImport

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
IMPORT_KIND = "directory"
LABELS = {
    "audiences": {a.value: AUDIENCE_LABELS[a.value] for a in ContactAudience},
    "functions": FUNCTION_LABELS,
    "channel_labels": CHANNEL_LABELS,
    "duties": roster.DUTY_LABELS,
}


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return render(request, name, status, **(LABELS | context))


@router.get("/annuaire")
async def directory_page(
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    q: Annotated[str, Query(max_length=100)] = "",
    audience: Annotated[str, Query(max_length=12)] = "",
    commune: Annotated[str, Query(max_length=100)] = "",
    arrondissement: Annotated[str, Query(max_length=4)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    async with db.read() as session:
        code = None
        if commune:
            codes, _ = await geography.resolve(session, items=[commune])
            found = codes or [c.code for c in await geography.search_communes(session, q=commune)]
            code = found[0] if found else "-"
        filters = listing.Filters(
            audience or None, code, arrondissement or None, None, q or None, False
        )
        total, rows = await listing.search(
            session, filters=filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        channels = await listing.channels_of(session, contact_ids=[c.id for c in rows if c.id])
        places = await _places(session, rows)
        arrondissements = await geography.arrondissements(session)
    personal = privacy.sees_personal_data(actor)
    return _page(
        request,
        "directory/index.html",
        rows=rows,
        names={c.id: privacy.contact_name(c.kind, c.display_name, personal=personal) for c in rows},
        channels=channels,
        places=places,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        form={"q": q, "audience": audience, "commune": commune, "arrondissement": arrondissement},
        arrondissements=arrondissements,
        is_admin=Role.ADMIN in actor.roles,
    )


async def _places(session: Any, rows: list[Contact]) -> dict[str, str]:
    codes = sorted({c.area_code for c in rows if c.area_level == "commune"})
    return {c.code: c.name for c in await geography.communes_by_code(session, codes=codes)}


@router.get("/annuaire/import")
async def import_page(request: Request, actor: CurrentActor) -> HTMLResponse:
    actor.require(Role.ADMIN, action="importer l'annuaire")
    return _page(request, "directory/import.html", report=None, dry_run=True, fmt="tocsin")


@router.post("/annuaire/import", dependencies=[CsrfChecked])
async def import_submit(
    request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    actor.require(Role.ADMIN, action="importer l'annuaire")
    form = await request.form()
    upload = form.get("file")
    fmt = ImportFormat(str(form.get("format") or "tocsin"))
    dry_run = form.get("dry_run") is not None
    if not isinstance(upload, UploadFile):
        return _page(
            request,
            "directory/import.html",
            422,
            report=None,
            dry_run=dry_run,
            fmt=fmt.value,
            error="Choisissez un fichier à importer.",
        )
    now, filename = clock.now(), upload.filename or ""
    kept = None
    with tempfile.SpooledTemporaryFile(max_size=8_000_000) as spool:
        while chunk := await upload.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)
        report = await run_import(
            db, actor=actor, stream=spool, fmt=fmt, now=now, dry_run=dry_run, filename=filename
        )
        if report.ok and dry_run:
            spool.seek(0)
            kept = await kept_imports.keep_checked(
                request,
                db,
                kind=IMPORT_KIND,
                fmt=fmt.value,
                filename=filename,
                content=spool.read(),
                now=now,
            )
    return _page(
        request,
        "directory/import.html",
        200 if report.ok else 422,
        report=report,
        dry_run=dry_run,
        fmt=fmt.value,
        filename=filename,
        kept=kept,
    )


@router.post("/annuaire/import/confirmation", dependencies=[CsrfChecked])
async def import_confirm(
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    sha256: Annotated[str, Form(pattern=kept_imports.DIGEST_PATTERN)],
) -> HTMLResponse:
    """« Importer ce fichier »: the file the dry run checked, kept server-side, now applied."""
    actor.require(Role.ADMIN, action="importer l'annuaire")

    async def run(session: AsyncSession, kept: PendingImport) -> ImportReport:
        return await directory.import_directory(
            session,
            actor=actor,
            stream=io.BytesIO(kept.content),
            fmt=ImportFormat(kept.fmt),
            now=clock.now(),
            filename=kept.filename,
        )

    applied = await kept_imports.apply_kept(
        request, db, kind=IMPORT_KIND, sha256=sha256, now=clock.now(), run=run
    )
    if applied is None:
        return _page(
            request,
            "directory/import.html",
            409,
            report=None,
            dry_run=True,
            fmt="tocsin",
            error=pending_imports.GONE,
        )
    kept, report = applied
    return _page(
        request,
        "directory/import.html",
        200 if report.ok else 422,
        report=report,
        dry_run=False,
        fmt=kept.fmt,
        filename=kept.filename,
    )


@router.get("/annuaire/{contact_id}")
async def person_page(
    contact_id: RowId, request: Request, actor: CurrentActor, db: DbDep
) -> HTMLResponse:
    async with db.read() as session:
        contact = await session.get(Contact, contact_id)
        if contact is None:
            raise NotFound("contact_not_found", f"Aucun contact n° {contact_id}.")
        channels = (await listing.channels_of(session, contact_ids=[contact_id]))[contact_id]
        places = await _places(session, [contact])
    personal = privacy.sees_personal_data(actor)
    shown = [
        (c, privacy.masked_address(c.kind, c.address) if not personal else c.address)
        for c in channels
    ]
    return _page(
        request,
        "directory/person.html",
        contact=contact,
        shown_name=privacy.contact_name(contact.kind, contact.display_name, personal=personal),
        channels=shown,
        places=places,
        personal=personal,
        is_admin=Role.ADMIN in actor.roles,
    )


@router.post("/annuaire/{contact_id}/effacer", dependencies=[CsrfChecked])
async def erase_submit(
    contact_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    async with db.transaction() as session:
        result = await directory.erase_contact(
            session, actor=actor, contact_id=contact_id, now=clock.now()
        )
    flash(
        request,
        "success",
        f"Données personnelles effacées ; {result['redacted_entries']} entrée(s) de la main "
        "courante pseudonymisée(s).",
    )
    return RedirectResponse(f"/annuaire/{contact_id}", status_code=303)
