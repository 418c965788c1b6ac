"""« Diffusion FR-Alert » : the prefect's checklist on a public bulletin — the text to paste on
the State's portal, the communes, the level — and the form recording the broadcast."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Role
from crisis.app.actions import CallerDep
from crisis.app.api.fr_alert import read_checklist
from crisis.app.auth import CsrfChecked, CurrentActor, DbDep, SettingsDep
from crisis.app.clock import PARIS
from crisis.app.library import playbook_library
from crisis.app.paths import RowId
from crisis.app.web.lifecycle_pages import act_then_show
from crisis.app.web.templating import render
from crisis.cell import crises, fr_alert
from crisis.errors import InvalidInput

router = APIRouter(include_in_schema=False)
DONE = "Diffusion FR-Alert enregistrée dans la main courante."


def page_path(bulletin_id: int) -> str:
    return f"/communiques/{bulletin_id}/fr-alert"


@router.get("/communiques/{bulletin_id}/fr-alert")
async def checklist_page(
    bulletin_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    settings: SettingsDep,
) -> HTMLResponse:
    actor.require(Role.PREFECT, action="préparer une diffusion FR-Alert")
    async with db.read() as session:
        bulletin, prepared, done = await read_checklist(session, bulletin_id, settings)
        crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
    return render(
        request,
        "bulletins/fr_alert.html",
        bulletin=bulletin,
        crisis=crisis,
        prepared=prepared,
        done=done,
    )


def _paris_time(value: str) -> datetime:
    """The form's `datetime-local` value, read as Paris time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("fr_alert_time", "Indiquez l'heure de la diffusion.") from None
    return moment.replace(tzinfo=PARIS) if moment.tzinfo is None else moment


@router.post("/communiques/{bulletin_id}/fr-alert", dependencies=[CsrfChecked])
async def record_broadcast(
    bulletin_id: RowId,
    request: Request,
    caller: CallerDep,
    db: DbDep,
    reference: Annotated[str, Form(max_length=200)] = "",
    broadcast_at: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    async def step(session: AsyncSession) -> object:
        caller.actor.require(Role.PREFECT, action="enregistrer une diffusion FR-Alert")
        return await fr_alert.record(
            session,
            **caller.acting,
            bulletin_id=bulletin_id,
            reference=reference,
            broadcast_at=_paris_time(broadcast_at),
            playbooks=playbook_library(),
            max_chars=caller.settings.fr_alert_max_chars,
        )

    return await act_then_show(request, db, step, DONE, location=page_path(bulletin_id))
