"""The programme page's trends per kind of drill: the figures (`exercises.trends`) for the
page's data tables, and each kind's chart as a PNG (`crisis.app.exercise_trend_chart`)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from crisis.app import exercise_trend_chart
from crisis.app.auth import CurrentActor, DbDep
from crisis.app.exercise_report_view import shown
from crisis.errors import NotFound
from exercises import trends
from exercises.programme import DrillKind

router = APIRouter(include_in_schema=False)
PRIVATE = {"Cache-Control": "private, no-store"}


async def trend_views(session: AsyncSession, *, actor: Actor) -> list[dict[str, Any]]:
    """Each kind's trend as the programme page shows it (instants also in Paris time)."""
    return [shown(t.view()) for t in await trends.all_kinds(session, actor=actor)]


@router.get("/exercices/tendances/{kind}.png")
async def trend_chart(kind: str, actor: CurrentActor, db: DbDep) -> Response:
    if kind not in set(DrillKind):
        raise NotFound("no_such_kind", f"Type d'exercice inconnu : « {kind} ».")
    async with db.read() as session:
        found = [t.view() for t in await trends.all_kinds(session, actor=actor) if t.kind == kind]
    chart = await asyncio.to_thread(exercise_trend_chart.png, found[0])
    if chart is None:
        raise NotFound("no_chart", "Aucune séance terminée de ce type : rien à représenter.")
    return Response(chart, media_type="image/png", headers=PRIVATE)
