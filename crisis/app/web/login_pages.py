"""The login and logout pages: throttled attempts are told when they may try again."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from crisis.app import auth
from crisis.app.auth import ClockDep, CsrfChecked, DbDep, SettingsDep
from crisis.app.clock import paris
from crisis.app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/connexion")
async def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html")


@router.post("/connexion", dependencies=[CsrfChecked])
async def login_submit(
    request: Request,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    login: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    outcome = await auth.login(request, db, clock, settings, login=login, password=password)
    if outcome.user is not None:
        return RedirectResponse("/", status_code=303)
    wait = outcome.retry_after
    if outcome.throttled:
        error = (
            "Trop de tentatives pour cet identifiant depuis votre adresse : "
            f"réessayez {_retry_when(clock.now() + wait, wait)}. "
            "Même le bon mot de passe est refusé avant."
        )
    else:
        error = "Identifiant ou mot de passe incorrect."
        if wait:
            error += f" Prochain essai possible {_retry_when(clock.now() + wait, wait)}."
    response = render(
        request, "login.html", 429 if outcome.throttled else 401, error=error, login=login
    )
    if wait:
        response.headers["Retry-After"] = str(math.ceil(wait.total_seconds()))
    return response


def _retry_when(at: datetime, wait: timedelta) -> str:
    """« dans 2 min (à 15 h 07) » — or seconds under a minute."""
    seconds = math.ceil(wait.total_seconds())
    local = paris(at)
    span = f"{seconds} s" if seconds < 60 else f"{math.ceil(seconds / 60)} min"
    return f"dans {span} (à {local.hour} h {local.minute:02d})"


@router.post("/deconnexion", dependencies=[CsrfChecked])
async def logout(request: Request, db: DbDep, clock: ClockDep) -> Response:
    await auth.logout(request, db, clock)
    return RedirectResponse("/connexion", status_code=303)
