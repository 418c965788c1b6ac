"""The machine-readable public channels: each public bulletin as a CAP 1.2 alert, and the
Atom feed of the public bulletins (issue 21). Anonymous, served from the public cache."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from crisis.app.auth import DbDep, SettingsDep
from crisis.app.web.public_answers import (
    PublicQueryDep,
    cached,
    cip_number,
    in_scope,
    publisher,
    shown_or_404,
)
from crisis.public.atom import ATOM_MEDIA_TYPE, FeedScope, feed_xml
from crisis.public.cache import Rendered
from crisis.public.cap import CAP_MEDIA_TYPE, cap_xml
from crisis.public.situation import FEED_ENTRIES

router = APIRouter(include_in_schema=False)


@router.api_route("/public/cap/{public_id}.xml", methods=["GET", "HEAD"])
async def public_cap(
    public_id: str,
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    query: PublicQueryDep,
) -> Response:

    async def build() -> Rendered:
        found = await shown_or_404(db, public_id=public_id, exercise=query.exercise)
        number = await cip_number(db, query)
        body = cap_xml(found, publisher=publisher(settings, cip_number=number))
        return Rendered(body, CAP_MEDIA_TYPE, last_modified=found.published_at)

    return await cached(request, db, query, build)


@router.api_route("/public/feed.atom", methods=["GET", "HEAD"])
async def public_feed(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    query: PublicQueryDep,
) -> Response:
    async def build() -> Rendered:
        shown, name = await in_scope(db, query)
        shown = shown[:FEED_ENTRIES]
        scope = FeedScope(exercise=query.exercise, commune=query.commune, commune_name=name)
        number = await cip_number(db, query)
        body = feed_xml(shown, publisher=publisher(settings, cip_number=number), scope=scope)
        latest = shown[0].published_at if shown else None
        return Rendered(body, ATOM_MEDIA_TYPE, last_modified=latest)

    return await cached(request, db, query, build)
