"""The people ES48 still waits for, a page at a time (the crisis page shows the first names)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from crisis import privacy
from crisis.app.auth import CurrentActor, DbDep
from crisis.app.paths import RowId
from crisis.app.web.templating import render
from crisis.cell import crises, overview

router = APIRouter(include_in_schema=False)

MISSING_PAGE = 100
AUDIENCE_TITLES = {"officials": "Élus", "media": "Médias"}


@router.get("/evenements/{crisis_id}/es48-manquants")
async def es48_missing_page(
    crisis_id: RowId,
    request: Request,
    actor: CurrentActor,
    db: DbDep,
    public: Literal["officials", "media"] = "officials",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Names per `crisis.privacy`: without need-to-know, only how many are missing."""
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        found = await overview.es48_missing(
            session,
            crisis=crisis,
            audience=public,
            limit=MISSING_PAGE,
            offset=(page - 1) * MISSING_PAGE,
        )
    personal = privacy.sees_personal_data(actor)
    count = found.coverage.missing_count if found else 0
    return render(
        request,
        "es48_missing.html",
        crisis=crisis,
        audience=public,
        audience_title=AUDIENCE_TITLES[public],
        found=found,
        names=found.names if found and personal else [],
        personal=personal,
        count=count,
        page=page,
        pages=max(1, -(-count // MISSING_PAGE)),
    )
