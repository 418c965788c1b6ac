"""Tracking a published bulletin: live counts per audience and channel, failures, the list of
officials to call (and the call logged), the CSV export; the crisis' bulletins fragment."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from contacts.csvsource import spreadsheet_cell
from crisis import privacy
from crisis.actors import Actor, Role
from crisis.app.auth import ClockDep, CsrfChecked, CurrentActor, DbDep
from crisis.app.paths import RowId
from crisis.app.web import live_stream
from crisis.app.web import to_call as to_call_rows
from crisis.app.web.shared_pages import shared_page
from crisis.app.web.templating import flash, render
from crisis.bulletin import confirmations, tracking
from crisis.bulletin import workflow as bulletins
from crisis.cell import crises
from crisis.dispatch import interruptions
from crisis.dispatch.outbox import DeliveryStatus

router = APIRouter(include_in_schema=False)


LIST_PAGE = 50
"""Rows of the « à appeler » and « échecs » lists per page: a page costs the same with ten
people to call or ten thousand; the counts say how many there are."""
PageNumber = Annotated[int, Query(ge=1, le=100_000)]


@dataclass(frozen=True, slots=True)
class Pages:
    """The page shown of each list: `?appeler=2&echecs=1`."""

    to_call: int = 1
    failures: int = 1


async def _pages(appeler: PageNumber = 1, echecs: PageNumber = 1) -> Pages:
    return Pages(to_call=appeler, failures=echecs)


ListPages = Annotated[Pages, Depends(_pages)]


async def _tracking_context(
    db: DbDep, bulletin_id: int, actor: Actor, pages: Pages = Pages()
) -> dict[str, Any]:
    """Counts for everyone; the lists' names and addresses per `crisis.privacy`, a page each."""
    to_call_page, failures_page = pages.to_call, pages.failures
    personal = privacy.sees_personal_data(actor)
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        counted = await tracking.counts(session, bulletin_id=bulletin_id)
        failures = await tracking.items(
            session,
            bulletin_id=bulletin_id,
            status=DeliveryStatus.FAILED,
            limit=LIST_PAGE,
            offset=(failures_page - 1) * LIST_PAGE,
        )
        to_call = await tracking.items(
            session,
            bulletin_id=bulletin_id,
            status=DeliveryStatus.TO_CALL,
            limit=LIST_PAGE,
            offset=(to_call_page - 1) * LIST_PAGE,
        )
        to_call_details = await to_call_rows.details(
            session, (d.contact_id for d in to_call), personal=personal
        )
        interrupted = await interruptions.for_bulletin(
            session, crisis_id=bulletin.crisis_id, bulletin_id=bulletin_id
        )
    groups = counted.by_played_audience if bulletin.exercise else counted.by_audience
    return {
        "bulletin": bulletin,
        "counted": counted,
        "audience_rows": _rows(groups),
        "channel_rows": _rows(counted.by_channel),
        "personal": personal,
        "failures": [tracking.delivery_view(d, personal=personal) for d in failures],
        "to_call": [tracking.delivery_view(d, personal=personal) for d in to_call],
        "to_call_details": to_call_details,
        "interrupted": interrupted,
        "lists": {
            "to_call": _paging(counted.counts.get(DeliveryStatus.TO_CALL, 0), to_call_page),
            "failures": _paging(counted.counts.get(DeliveryStatus.FAILED, 0), failures_page),
        },
        "list_pages": {"appeler": to_call_page, "echecs": failures_page},
    }


def _paging(count: int, page: int) -> dict[str, int]:
    pages = max(1, -(-count // LIST_PAGE))
    return {"count": count, "page": page, "pages": pages, "first": (page - 1) * LIST_PAGE + 1}


TRACKED = ("sent", "confirmed", "pending", "sending", "retrying", "failed", "to_call", "cancelled")


def _rows(groups: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    rows = []
    for key, per in sorted(groups.items()):
        total = sum(per.values()) or 1
        rows.append(
            {
                "key": key,
                "total": sum(per.values()),
                "counts": per,
                "parts": [
                    (s, per.get(s, 0), round(100 * per.get(s, 0) / total, 1)) for s in TRACKED
                ],
            }
        )
    return rows


@router.get("/communiques/{bulletin_id}/suivi")
async def tracking_page(
    bulletin_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    pages: ListPages,
) -> HTMLResponse:
    can_call = bool(actor.roles & {Role.COMMUNICATOR, Role.OPERATOR})

    async def fresh() -> HTMLResponse:
        context = await _tracking_context(db, bulletin_id, actor, pages)
        async with db.read() as session:
            crisis = await crises.get(session, crisis_id=context["bulletin"].crisis_id)
        return render(
            request,
            "bulletins/tracking.html",
            crisis=crisis,
            exercise=crisis.is_exercise,
            can_call=can_call,
            **context,
        )

    return await shared_page(request, (tuple(sorted(actor.roles)),), fresh)


@router.get("/fragments/communiques/{bulletin_id}/suivi")
async def tracking_fragment(
    bulletin_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    pages: ListPages,
) -> HTMLResponse:
    can_call = bool(actor.roles & {Role.COMMUNICATOR, Role.OPERATOR})

    async def fresh() -> HTMLResponse:
        context = await _tracking_context(db, bulletin_id, actor, pages)
        return render(request, "bulletins/tracking_live.html", can_call=can_call, **context)

    visibility = (privacy.sees_personal_data(actor), can_call)
    topic = f"communique:{bulletin_id}"
    return await live_stream.shared_fragment(request, topic, visibility, fresh)


@router.get("/communiques/{bulletin_id}/envois.csv")
async def deliveries_csv(bulletin_id: RowId, actor: CurrentActor, db: DbDep) -> StreamingResponse:
    async with db.read() as session:
        await bulletins.get(session, bulletin_id=bulletin_id)
    personal = privacy.sees_personal_data(actor)

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(tracking.CSV_COLUMNS)
        async with db.snapshot() as session:  # one moment, however slow the download
            async for delivery in tracking.stream(session, bulletin_id=bulletin_id):
                view = tracking.delivery_view(delivery, personal=personal)
                cells = ("" if view[c] is None else str(view[c]) for c in tracking.CSV_COLUMNS)
                writer.writerow(map(spreadsheet_cell, cells))
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    filename = f"communique-{bulletin_id}-envois.csv"
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/envois/{delivery_id}/appel", dependencies=[CsrfChecked])
async def log_call(
    delivery_id: RowId, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> Response:
    note = (await request.form()).get("note")
    async with db.transaction() as session:
        done = await confirmations.confirm_by_phone(
            session,
            actor=actor,
            delivery_id=delivery_id,
            note=note if isinstance(note, str) else "",
            now=clock.now(),
        )
        bulletin_id = done.delivery.bulletin_id
        view = tracking.delivery_view(done.delivery, personal=privacy.sees_personal_data(actor))
        name = view["recipient_name"] if view["recipient_name"] != privacy.WITHHELD else None
    flash(
        request,
        "success",
        f"Appel enregistré : réception confirmée par {name or 'le destinataire'}.",
    )
    return RedirectResponse(f"/communiques/{bulletin_id}/suivi", status_code=303)


@router.get("/fragments/evenements/{crisis_id}/communiques")
async def crisis_bulletins_fragment(
    crisis_id: RowId, request: Request, actor: CurrentActor, db: DbDep
) -> HTMLResponse:
    can_write = Role.COMMUNICATOR in actor.roles

    async def fresh() -> HTMLResponse:
        async with db.read() as session:
            crisis = await crises.get(session, crisis_id=crisis_id)
            rows = await bulletins.listing(session, crisis_id=crisis_id)
        return render(
            request,
            "bulletins/crisis_bulletins.html",
            crisis=crisis,
            bulletins=rows,
            can_write=can_write,
        )

    return await shared_page(request, (can_write,), fresh)
