"""Pages readable without logging in: a published bulletin, and the receipt confirmation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from crisis.app.auth import ClockDep, DbDep, SettingsDep
from crisis.app.paths import RowId
from crisis.app.signing import confirmation_secret
from crisis.app.web.templating import render
from crisis.bulletin import confirmations
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.render import PUBLIC_PAGE, render_channel
from crisis.cell import crises
from crisis.errors import NotFound
from crisis.vocabulary import BulletinStatus

router = APIRouter(include_in_schema=False)


@router.get("/public/bulletins/{bulletin_id}")
async def public_bulletin(bulletin_id: RowId, request: Request, db: DbDep) -> HTMLResponse:
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        if bulletin.status != BulletinStatus.PUBLISHED:
            raise NotFound("bulletin_not_found", f"Aucun communiqué publié n° {bulletin_id}.")
        crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
        later = [
            b
            for b in await bulletins.listing(session, crisis_id=bulletin.crisis_id)
            if b.status == BulletinStatus.PUBLISHED and bulletin_id in b.reference_ids
        ]
    page = render_channel(bulletin.content(), channel=PUBLIC_PAGE, link="", exercise=False)
    return render(
        request,
        "bulletins/public.html",
        bulletin=bulletin,
        crisis=crisis,
        exercise=bulletin.exercise,
        headline=page.text.split("\n\n", 1)[0],
        later=later,
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
