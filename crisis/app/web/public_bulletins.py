"""Pages readable without logging in: the bulletins published to the public (their list —
the situation in force, then the archive — and each one under its unguessable public id,
`crisis.public`), served from the public cache, and the receipt confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from crisis.app.auth import ClockDep, DbDep, SettingsDep
from crisis.app.signing import confirmation_secret
from crisis.app.web.public_answers import (
    PublicQueryDep,
    cached,
    cip_number,
    in_scope,
    shown_or_404,
)
from crisis.app.web.templating import render
from crisis.bulletin import confirmations
from crisis.bulletin import workflow as bulletins
from crisis.public.cache import Rendered
from crisis.public.inputs import HTML_LANG, LANGUAGE_NAMES
from crisis.public.situation import situation

router = APIRouter(include_in_schema=False)


def _page(request: Request, name: str, **context: Any) -> Rendered:
    """A public page rendered without the session (no cookie: a shared cache may keep it)."""
    html = request.app.state.templates.get_template(name).render(**context)
    return Rendered(html.encode(), "text/html; charset=utf-8", last_modified=None)


@router.api_route("/public/bulletins", methods=["GET", "HEAD"])
async def public_list(request: Request, db: DbDep, query: PublicQueryDep) -> Response:
    async def build() -> Rendered:
        shown, name = await in_scope(db, query)
        return _page(
            request,
            "public/list.html",
            cip_number=await cip_number(db, query),
            situation=situation(shown),
            commune_name=name,
            exercise=query.exercise,
            suffix=query.suffix,
            feed_suffix=query.feed_suffix,
            query=query,
            html_lang=HTML_LANG,
        )

    return await cached(request, db, query, build)


@router.api_route("/public/bulletins/{public_id}", methods=["GET", "HEAD"])
async def public_bulletin(
    public_id: str, request: Request, db: DbDep, query: PublicQueryDep
) -> Response:

    async def build() -> Rendered:
        found = await shown_or_404(db, public_id=public_id, exercise=query.exercise)
        return _page(
            request,
            "public/bulletin.html",
            cip_number=await cip_number(db, query),
            bulletin=found,
            shown=found.version(query.lang),
            query=query,
            language_names=LANGUAGE_NAMES,
            html_lang=HTML_LANG,
            exercise=found.exercise,
            suffix=query.suffix,
        )

    return await cached(request, db, query, build)


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
