"""`/api/v1/crises/{id}/es48/missing`: the officials or media ES48 still waits for, a page at
a time (the crisis' answer carries them all; this one is for long lists)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from crisis import privacy
from crisis.app.api.schemas import returns
from crisis.app.auth import CurrentActor, DbDep
from crisis.app.paths import RowId
from crisis.cell import crises, overview

router = APIRouter(prefix="/api/v1", tags=["événements"])

PAGE_SIZE = 100


class Es48Missing(BaseModel):
    audience: Literal["officials", "media"]
    page: int
    pages: int
    page_size: int
    total: int = Field(description="Personnes pas encore atteintes dans ce public.")
    missing: list[str] = Field(
        description="Leurs noms, par ordre alphabétique, une page ; vide pour les rôles qui "
        "n'ont pas à connaître les destinataires (seul le nombre est donné)."
    )


@router.get(
    "/crises/{crisis_id}/es48/missing",
    summary="Lire les personnes qu'ES48 attend encore, par page",
    **returns(Es48Missing, 404),
)
async def es48_missing(
    crisis_id: RowId,
    actor: CurrentActor,
    db: DbDep,
    audience: Literal["officials", "media"] = "officials",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> dict[str, Any]:
    """Before the COD, nobody is missing yet (ES48 has not started)."""
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        found = await overview.es48_missing(
            session,
            crisis=crisis,
            audience=audience,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    total = found.coverage.missing_count if found else 0
    names = found.names if found and privacy.sees_personal_data(actor) else []
    return {
        "audience": audience,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "page_size": PAGE_SIZE,
        "total": total,
        "missing": names,
    }
