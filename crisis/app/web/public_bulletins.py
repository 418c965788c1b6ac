"""Pages readable without logging in: the bulletins published to the public (their list and
each one under its unguessable public id, `crisis.bulletin.public`), and the receipt
confirmation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from crisis.app.auth import ClockDep, DbDep, SettingsDep
from crisis.app.signing import confirmation_secret
from crisis.app.web.templating import render
from crisis.bulletin import confirmations, public
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.render import PUBLIC_PAGE, render_channel
from crisis.errors import DomainError
from crisis.vocabulary import CrisisMode

router = APIRouter(include_in_schema=False)


def _exercise(mode: str) -> bool:
    """`?mode=exercise` shows the exercise bulletins, and only them; no mode, the real ones."""
    if mode not in ("", CrisisMode.REAL, CrisisMode.EXERCISE):
        raise DomainError("invalid_mode", "Mode inconnu : « real » ou « exercise ».")
    return mode == CrisisMode.EXERCISE


ModeQuery = Annotated[str, Query(max_length=20)]


@router.get("/public/bulletins")
async def public_list(request: Request, db: DbDep, mode: ModeQuery = "") -> HTMLResponse:
    exercise = _exercise(mode)
    async with db.read() as session:
        shown = await public.listing(session, exercise=exercise)
    return render(
        request,
        "bulletins/public_list.html",
        bulletins=shown,
        exercise=exercise,
        suffix="?mode=exercise" if exercise else "",
    )


@router.get("/public/bulletins/{public_id}")
async def public_bulletin(
    public_id: Annotated[str, Path(max_length=64)],
    request: Request,
    db: DbDep,
    mode: ModeQuery = "",
) -> HTMLResponse:
    exercise = _exercise(mode)
    async with db.read() as session:
        bulletin = await public.get(session, public_id=public_id, exercise=exercise)
        earlier, later = await public.related(session, bulletin)
    page = render_channel(bulletin.content(), channel=PUBLIC_PAGE, link="", exercise=False)
    return render(
        request,
        "bulletins/public.html",
        bulletin=bulletin,
        exercise=bulletin.exercise,
        headline=page.text.split("\n\n", 1)[0],
        earlier=earlier,
        later=later,
        suffix="?mode=exercise" if exercise else "",
    )


@router.get("/confirmer/{token}")
async def confirm_page(
    token: str, request: Request, db: DbDep, settings: SettingsDep
) -> HTMLResponse:
    delivery_id = confirmations.delivery_of(token, secret=confirmation_secret(settings))
    async with db.read() as session:
        delivery = await confirmations.delivery_for_page(session, delivery_id=delivery_id)
        bulletin = await bulletins.get(session, bulletin_id=delivery.bulletin_id or 0)
    return render(
        request,
        "bulletins/confirm.html",
        token=token,
        delivery=delivery,
        bulletin=bulletin,
        exercise=bulletin.exercise,
        done=delivery.status == "confirmed",
    )


@router.post("/confirmer/{token}")
async def confirm_submit(
    token: str, request: Request, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> HTMLResponse:
    async with db.transaction() as session:
        result = await confirmations.confirm_by_link(
            session, token=token, secret=confirmation_secret(settings), now=clock.now()
        )
        bulletin = await bulletins.get(session, bulletin_id=result.delivery.bulletin_id or 0)
    return render(
        request,
        "bulletins/confirm.html",
        token=token,
        delivery=result.delivery,
        bulletin=bulletin,
        exercise=bulletin.exercise,
        done=True,
        already=result.already,
    )
