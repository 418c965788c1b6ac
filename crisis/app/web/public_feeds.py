"""The machine-readable public channels: each public bulletin as a CAP 1.2 alert, and the
Atom feed of the public bulletins (issue 21). Anonymous, served from the public cache."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from crisis.app.auth import DbDep, SettingsDep
from crisis.app.library import playbook_library
from crisis.app.web.public_answers import cache_key, cached, publisher
from crisis.bulletin.public import NOT_PUBLIC
from crisis.errors import NotFound
from crisis.public import reading
from crisis.public.atom import ATOM_MEDIA_TYPE, FeedScope, feed_xml
from crisis.public.cache import Rendered
from crisis.public.cap import CAP_MEDIA_TYPE, cap_xml
from crisis.public.inputs import MAX_LENGTH, public_query
from crisis.public.situation import FEED_ENTRIES, in_commune

router = APIRouter(include_in_schema=False)

ValueQuery = Annotated[str, Query(max_length=MAX_LENGTH)]


@router.get("/public/cap/{public_id}.xml")
async def public_cap(
    public_id: Annotated[str, Path(max_length=64)],
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    mode: ValueQuery = "",
) -> Response:
    query = public_query(mode=mode)

    async def build() -> Rendered:
        async with db.read() as session:
            found = await reading.one(
                session, public_id=public_id, exercise=query.exercise, playbooks=playbook_library()
            )
        if found is None:
            raise NotFound("bulletin_not_found", NOT_PUBLIC)
        body = cap_xml(found, publisher=publisher(settings))
        return Rendered(body, CAP_MEDIA_TYPE, last_modified=found.published_at)

    return await cached(request, db, cache_key("cap", query, public_id), build)


@router.get("/public/feed.atom")
async def public_feed(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    mode: ValueQuery = "",
    commune: ValueQuery = "",
    lang: ValueQuery = "",
) -> Response:
    query = public_query(mode=mode, commune=commune, lang=lang)

    async def build() -> Rendered:
        async with db.read() as session:
            shown = await reading.published(
                session, exercise=query.exercise, playbooks=playbook_library()
            )
            name = await reading.commune_name(session, code=query.commune)
        shown = in_commune(shown, query.commune)[:FEED_ENTRIES]
        scope = FeedScope(exercise=query.exercise, commune=query.commune, commune_name=name)
        body = feed_xml(shown, publisher=publisher(settings), scope=scope)
        latest = shown[0].published_at if shown else None
        return Rendered(body, ATOM_MEDIA_TYPE, last_modified=latest)

    return await cached(request, db, cache_key("feed", query), build)
