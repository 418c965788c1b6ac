"""What every public route shares: the cache of rendered answers, the CAP publisher, and the
HTTP caching headers (`ETag`, `Last-Modified`, 304)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from fastapi import Request, Response

from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.public import cache
from crisis.public.cache import PublicCache, Rendered
from crisis.public.cap import Publisher
from crisis.public.inputs import PublicQuery

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
