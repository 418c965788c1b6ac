"""The public pages every DSFR service carries in its footer: accessibility statement, legal
notice, personal data. Readable without logging in; they name no one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from crisis.app.auth import SettingsDep
from crisis.app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/accessibilite")
async def accessibility_statement(request: Request) -> HTMLResponse:
    return render(request, "legal/accessibility.html")


@router.get("/mentions-legales")
async def legal_notice(request: Request, settings: SettingsDep) -> HTMLResponse:
    return render(request, "legal/notice.html", base_url=settings.base_url)


@router.get("/donnees-personnelles")
async def personal_data(request: Request, settings: SettingsDep) -> HTMLResponse:
    return render(request, "legal/personal_data.html", settings=settings)
