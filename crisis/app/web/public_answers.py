"""What every public route shares: the cache of rendered answers, the CAP publisher, and the
HTTP caching headers (`ETag`, `Last-Modified`, 304)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Query, Request, Response

from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.app.settings import Settings
from crisis.bulletin.public import NOT_PUBLIC
from crisis.errors import NotFound
from crisis.public import cache, reading
from crisis.public.bulletin import PublicBulletin
from crisis.public.cache import PublicCache, Rendered
from crisis.public.cap import Publisher
from crisis.public.inputs import PublicQuery, public_query

CACHE_CONTROL = "public, max-age=0, must-revalidate"
"""Revalidate each time (a 304 costs nothing): published to visible within one second."""
PREFECTURE = "Préfecture de la Somme"


def public_cache(request: Request) -> PublicCache:
    found: PublicCache | None = getattr(request.app.state, "public_cache", None)
    if found is None:
        found = PublicCache(monotonic=time.monotonic)
        request.app.state.public_cache = found
    return found


def publisher(settings: Settings, *, cip_number: str | None = None) -> Publisher:
    """The CAP signature; the contact names the CIP's number once one is open (issue 21: the
    CIP wing exposes `open_cip_number`, not wired yet)."""
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
    key: Hashable,
    build: Callable[[], Awaitable[Rendered]],
) -> Response:
    """The answer for `key` from the cache (built on a miss), or 304 when the client has it."""

    async def read_stamp() -> cache.Stamp:
        async with db.read() as session:
            return await cache.publication_stamp(session)

    rendered = await public_cache(request).answer(key, read_stamp=read_stamp, build=build)
    return respond(request, rendered)


def respond(request: Request, rendered: Rendered) -> Response:
    headers = {"ETag": rendered.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if rendered.last_modified is not None:
        headers["Last-Modified"] = format_datetime(rendered.last_modified, usegmt=True)
    if _not_modified(request, rendered):
        return Response(status_code=304, headers=headers)
    return Response(
        rendered.body,
        status_code=rendered.status,
        media_type=rendered.media_type,
        headers=headers,
    )


def _not_modified(request: Request, rendered: Rendered) -> bool:
    if rendered.status != 200:
        return False
    given = request.headers.get("if-none-match")
    if given is not None:
        return rendered.etag in {tag.strip() for tag in given.split(",")} or given.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since is None or rendered.last_modified is None:
        return False
    try:
        return rendered.last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def cache_key(kind: str, query: PublicQuery, *extra: str) -> tuple[object, ...]:
    return (kind, *query.key(), *extra)


def _query(mode: str = Query(""), commune: str = Query(""), lang: str = Query("")) -> PublicQuery:
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
