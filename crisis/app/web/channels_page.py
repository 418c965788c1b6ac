"""The channels page, for administrators: what is configured, healthy, real or sandbox."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from channels.registry import check_all
from crisis.actors import Role
from crisis.app.auth import CurrentActor, SettingsDep
from crisis.app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/canaux")
async def channels_page(
    request: Request, actor: CurrentActor, settings: SettingsDep
) -> HTMLResponse:
    actor.require(Role.ADMIN, action="consulter l'état des canaux")
    real, exercise = await asyncio.gather(
        check_all(settings.channels, timeout=5.0),
        check_all(settings.exercise_channels, timeout=5.0),
    )
    sets = [("Canaux réels", real), ("Canaux d'exercice (bac à sable)", exercise)]
    return render(request, "channels.html", sets=sets)
