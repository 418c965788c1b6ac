"""`/api/v1/bulletins/{id}/fr-alert`: the text prepared for the FR-Alert portal, and the
broadcast the prefect records once done there (`crisis.cell.fr_alert`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Role
from crisis.app.actions import CallerDep
from crisis.app.api.schemas import returns
from crisis.app.auth import CurrentActor, DbDep, SettingsDep
from crisis.app.library import playbook_library
from crisis.app.paths import RowId
from crisis.app.settings import Settings
from crisis.bulletin.record import Bulletin
from crisis.cell import fr_alert

router = APIRouter(prefix="/api/v1", tags=["communiqués"])
ACTION = "enregistrer une diffusion FR-Alert"


class FrAlertIn(BaseModel):
    reference: str = Field(max_length=200, description="La référence donnée par le portail.")
    broadcast_at: AwareDatetime = Field(description="L'heure de la diffusion, avec son fuseau.")


async def read_checklist(
    session: AsyncSession, bulletin_id: int, settings: Settings
) -> tuple[Bulletin, fr_alert.Prepared, dict[str, Any] | None]:
    """The checklist with this instance's playbooks and length limit (API and page)."""
    return await fr_alert.checklist(
        session,
        bulletin_id=bulletin_id,
        playbooks=playbook_library(),
        max_chars=settings.fr_alert_max_chars,
    )


@router.get(
    "/bulletins/{bulletin_id}/fr-alert",
    summary="Lire le texte préparé pour FR-Alert",
    **returns(dict[str, Any], 404, 409),
)
async def prepared_text(
    bulletin_id: RowId, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    actor.require(Role.PREFECT, action="préparer une diffusion FR-Alert")
    async with db.read() as session:
        _bulletin, prepared, done = await read_checklist(session, bulletin_id, settings)
    return {**prepared.view(), "broadcast": done}


@router.post(
    "/bulletins/{bulletin_id}/fr-alert",
    status_code=201,
    summary="Enregistrer la diffusion FR-Alert faite sur le portail",
    **returns(dict[str, Any], 404, 409),
)
async def record_broadcast(
    bulletin_id: RowId, body: FrAlertIn, caller: CallerDep, db: DbDep
) -> dict[str, Any]:
    caller.actor.require(Role.PREFECT, action=ACTION)
    async with db.transaction() as session:
        return await fr_alert.record(
            session,
            **caller.acting,
            bulletin_id=bulletin_id,
            reference=body.reference,
            broadcast_at=body.broadcast_at,
            playbooks=playbook_library(),
            max_chars=caller.settings.fr_alert_max_chars,
        )
