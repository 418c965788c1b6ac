"""What every public route shares: the query values, the cached answer, the CAP publisher and
the lookups of the public bulletins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Query, Request, Response

from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.app.settings import Settings
from crisis.app.web.public_http import answer, cache_of, key_for, read_stamp
from crisis.bulletin.public import NOT_PUBLIC
from crisis.cip import public as cip_public
from crisis.errors import NotFound
from crisis.public import reading
from crisis.public.bulletin import PublicBulletin
from crisis.public.cache import Rendered
from crisis.public.cap import Publisher
from crisis.public.inputs import PublicQuery, public_query

PREFECTURE = "Préfecture de la Somme"


async def cip_number(db: Database, query: PublicQuery) -> str | None:
    """The CIP number the public pages of this mode show, while a CIP is open."""
    async with db.read() as session:
        return await cip_public.current_number(session, exercise=query.exercise)


def publisher(settings: Settings, *, cip_number: str | None = None) -> Publisher:
    """The CAP signature; the contact names the CIP's number while one is open."""
    host = urlsplit(settings.base_url).hostname or "localhost"
    site = f"{settings.base_url.rstrip('/')}/public/bulletins"
    contact = f"{PREFECTURE} — {site}"
    if cip_number:
        contact = f"Cellule d'information du public : {cip_number} — {site}"
    return Publisher(
        sender=f"tocsin@{host}", name=PREFECTURE, base_url=settings.base_url, contact=contact
    )


async def cached(
    request: Request,
    db: Database,
    query: PublicQuery,
    build: Callable[[], Awaitable[Rendered]],
) -> Response:
    """The answer for this URL from the cache (built on a miss), or 304 when the client has it."""
    key = key_for(request.url.path, query)
    assert key is not None, request.url.path
    kept = cache_of(request.app.state)
    rendered = await kept.answer(key, read_stamp=lambda: read_stamp(db), build=build)
    status, headers, body = answer(
        rendered,
        if_none_match=request.headers.get("if-none-match"),
        if_modified_since=request.headers.get("if-modified-since"),
    )
    media_type = headers.pop("Content-Type", None)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


async def _query(
    mode: str = Query(""), commune: str = Query(""), lang: str = Query("")
) -> PublicQuery:
    """The three values a public URL may carry (400 when malformed); nothing else is read."""
    return public_query(mode=mode, commune=commune, lang=lang)


PublicQueryDep = Annotated[PublicQuery, Depends(_query)]


async def shown_or_404(db: Database, *, public_id: str, exercise: bool) -> PublicBulletin:
    """The public bulletin named `public_id` in this mode; the same 404 for anything else."""
    async with db.read() as session:
        found = await reading.one(
            session, public_id=public_id, exercise=exercise, playbooks=playbook_library()
        )
    if found is None:
        raise NotFound("bulletin_not_found", NOT_PUBLIC)
    return found


async def in_scope(db: Database, query: PublicQuery) -> tuple[list[PublicBulletin], str]:
    """The public bulletins the query's mode and commune select, and the commune's name."""
    async with db.read() as session:
        return await reading.about_commune(
            session, exercise=query.exercise, commune=query.commune, playbooks=playbook_library()
        )
