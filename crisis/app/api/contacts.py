"""`/api/v1/contacts` and `/api/v1/roster`: the directory, its imports, personal data, on-call.

Any role reads the directory; names, keys and channel addresses of persons are shown to the
roles of `crisis.privacy.PERSONAL_DATA_ROLES`, withheld or masked for the others. Writing,
importing, the CSV
export, the per-person export and erasure are for administrators.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AwareDatetime
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography, listing, roster
from contacts.directory import (
    Contact,
    ContactAudience,
    ContactChannel,
)
from contacts.importer import ImportFormat, ImportReport
from contacts.manual import manual_record
from contacts.privacy import contact_data
from crisis import directory, privacy
from crisis.actors import Actor, Role
from crisis.app import idempotency
from crisis.app.actions import Caller, CallerDep
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.contacts import (
    ContactExport,
    ContactIn,
    ContactList,
    ContactView,
    ErasureView,
    GapsView,
    ImportReportView,
    OnDutyView,
    ShiftIn,
    ShiftView,
)
from crisis.app.auth import ClockDep, CurrentActor, DbDep
from crisis.app.paths import RowId
from crisis.errors import InvalidInput, NotFound

router = APIRouter(prefix="/api/v1", tags=["annuaire"])


def contact_view(
    contact: Contact, channels: list[ContactChannel], *, personal: bool
) -> dict[str, Any]:
    return privacy.contact(contact_data(contact, channels), personal=personal)


def report_view(report: ImportReport) -> dict[str, Any]:
    """The report as its response model declares it (the same fields, read off the report)."""
    return ImportReportView.model_validate(report, from_attributes=True).model_dump()


@router.get(
    "/contacts",
    summary="Annuaire filtré ; format=csv exporte (administrateur)",
    **returns(ContactList, also_as="text/csv"),
)
async def list_contacts(
    actor: CurrentActor,
    db: DbDep,
    audience: ContactAudience | None = None,
    commune: Annotated[str | None, Query(max_length=5)] = None,
    arrondissement: Annotated[str | None, Query(max_length=4)] = None,
    epci: Annotated[str | None, Query(max_length=9)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    active: bool | None = None,
    format: Literal["json", "csv"] = "json",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    filters = listing.Filters(audience, commune, arrondissement, epci, q, bool(active))
    if format == "csv":
        actor.require(Role.ADMIN, action="exporter l'annuaire")
        return StreamingResponse(
            _csv(db, filters),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="annuaire-tocsin.csv"'},
        )
    async with db.read() as session:
        total, page = await listing.search(session, filters=filters, limit=limit, offset=offset)
        channels = await listing.channels_of(session, contact_ids=[c.id for c in page if c.id])
    personal = privacy.sees_personal_data(actor)
    items = [contact_view(c, channels[c.id or 0], personal=personal) for c in page]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


async def _csv(db: DbDep, filters: listing.Filters) -> Any:
    async with db.snapshot() as session:  # one moment across its batches
        async for line in listing.export_csv(session, filters=filters):
            yield line


@router.post(
    "/contacts",
    status_code=201,
    summary="Ajouter un contact (administrateur)",
    **returns(ContactView, 409),
)
async def create_contact(
    body: ContactIn, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> JSONResponse:
    actor.require(Role.ADMIN, action="ajouter un contact")
    now = clock.now()

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        geo = await geography.geo_index(session)
        try:
            record = manual_record(
                geo,
                **body.model_dump(exclude={"channels"}),
                channels=[(c.kind, c.address, c.verified, c.active) for c in body.channels],
            )
        except ValueError as error:
            raise InvalidInput("invalid_contact", "Contact invalide.", list(error.args)) from error
        contact = await directory.create_contact(session, actor=actor, record=record, now=now)
        assert contact.id is not None
        channels = await listing.channels_of(session, contact_ids=[contact.id])
        return 201, contact_view(contact, channels[contact.id], personal=True)

    return await idempotency.run(request, db, actor=actor, now=now, action=action)


@router.post(
    "/contacts/import",
    summary="Importer un fichier (administrateur)",
    **returns(ImportReportView, 400, 413),
)
async def import_contacts(
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    format: Annotated[ImportFormat, Query()] = ImportFormat.TOCSIN,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The file is the raw body (`text/csv`) or the `file` field of a multipart form."""
    actor.require(Role.ADMIN, action="importer l'annuaire")
    with tempfile.SpooledTemporaryFile(max_size=8_000_000) as spool:
        filename = await _receive(request, spool)
        report = await run_import(
            db,
            actor=actor,
            stream=spool,
            fmt=format,
            now=clock.now(),
            dry_run=dry_run,
            filename=filename,
        )
    if not report.ok:
        raise InvalidInput(
            "invalid_file",
            f"Fichier refusé : {report.errors_total} ligne(s) en erreur, rien n'a été importé.",
            report_view(report)["errors"],
        )
    return report_view(report)


async def _receive(request: Request, spool: IO[bytes]) -> str:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("no_file", "Champ « file » absent du formulaire.")
        while chunk := await upload.read(1 << 20):
            spool.write(chunk)
        name = upload.filename or ""
    else:
        async for chunk in request.stream():
            spool.write(chunk)
        name = ""
    spool.seek(0)
    return name


async def run_import(
    db: DbDep,
    *,
    actor: Actor,
    stream: IO[bytes],
    fmt: ImportFormat,
    now: datetime,
    dry_run: bool,
    filename: str,
) -> ImportReport:
    async with db.transaction() as session:
        return await directory.import_directory(
            session,
            actor=actor,
            stream=stream,
            fmt=fmt,
            now=now,
            dry_run=dry_run,
            filename=filename,
        )


async def _get(session: AsyncSession, contact_id: int) -> Contact:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound("contact_not_found", f"Aucun contact n° {contact_id}.")
    return contact


@router.get("/contacts/{contact_id}", summary="Lire un contact", **returns(ContactView, 404))
async def read_contact(contact_id: RowId, actor: CurrentActor, db: DbDep) -> dict[str, Any]:
    async with db.read() as session:
        contact = await _get(session, contact_id)
        channels = await listing.channels_of(session, contact_ids=[contact_id])
    return contact_view(contact, channels[contact_id], personal=privacy.sees_personal_data(actor))


@router.get(
    "/contacts/{contact_id}/export",
    summary="Tout ce qui est détenu sur une personne",
    **returns(ContactExport, 404),
)
async def export_contact(contact_id: RowId, caller: CallerDep, db: DbDep) -> dict[str, Any]:
    return await _about(db, caller, contact_id, directory.export_contact)


@router.delete(
    "/contacts/{contact_id}",
    summary="Effacer une personne (pseudonymisation)",
    **returns(ErasureView, 404),
)
@router.post(
    "/contacts/{contact_id}/erase",
    summary="Effacer une personne (pseudonymisation)",
    **returns(ErasureView, 404),
)
async def erase_contact(contact_id: RowId, caller: CallerDep, db: DbDep) -> dict[str, Any]:
    return await _about(db, caller, contact_id, directory.erase_contact)


async def _about(
    db: DbDep, caller: Caller, contact_id: int, service: Callable[..., Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    """What a personal-data service says about one person, in its own transaction."""
    async with db.transaction() as session:
        return await service(session, contact_id=contact_id, **caller.acting)


def shift_view(shift: roster.Shift) -> dict[str, Any]:
    return {
        "id": shift.id,
        "role": shift.role,
        "level": shift.level,
        "name": shift.name,
        "contact_id": shift.contact_id,
        "user_id": shift.user_id,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
    }


@router.get(
    "/roster/on-duty", summary="Qui est d'astreinte à un instant donné", **returns(OnDutyView)
)
async def on_duty(
    actor: CurrentActor, db: DbDep, clock: ClockDep, at: AwareDatetime | None = None
) -> dict[str, Any]:
    instant = at or clock.now()
    async with db.read() as session:
        shifts = await roster.on_duty(session, at=instant)
    by_role: dict[str, list[dict[str, Any]]] = {r: [] for r in roster.REQUIRED_ROLES}
    for shift in shifts:
        by_role.setdefault(shift.role, []).append(shift_view(shift))
    return {"at": instant.isoformat(), "roles": by_role}


@router.get(
    "/roster/gaps", summary="Heures sans astreinte dans les prochains jours", **returns(GapsView)
)
async def gaps(
    actor: CurrentActor,
    db: DbDep,
    clock: ClockDep,
    days: Annotated[int, Query(ge=1, le=90)] = 30,
) -> dict[str, Any]:
    async with db.read() as session:
        found = await roster.roster_gaps(session, now=clock.now(), days=days)
    return {
        "days": days,
        "uncovered_hours": roster.uncovered_hours(found),
        "items": [
            {
                "role": g.role,
                "starts_at": g.starts_at.isoformat(),
                "ends_at": g.ends_at.isoformat(),
                "hours": g.hours,
            }
            for g in found
        ],
    }


@router.post(
    "/roster/shifts", status_code=201, summary="Ajouter une astreinte", **returns(ShiftView, 409)
)
async def add_shift(
    body: ShiftIn, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> JSONResponse:
    now = clock.now()

    async def action(session: AsyncSession) -> tuple[int, dict[str, Any]]:
        shift = await directory.add_shift(session, actor=actor, now=now, **body.model_dump())
        return 201, shift_view(shift)

    return await idempotency.run(request, db, actor=actor, now=now, action=action)
