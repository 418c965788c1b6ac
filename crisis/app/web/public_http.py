"""The HTTP side of the public answers, shared by the routes and the fast path: which cache
entry a URL names, and the answer a kept rendering gives (`ETag`, `Last-Modified`, 304)."""

from __future__ import annotations

import time
from collections.abc import Hashable
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from crisis.app.db import Database
from crisis.public import cache
from crisis.public.cache import PublicCache, Rendered
from crisis.public.inputs import PublicQuery

CACHE_CONTROL = "public, max-age=0, must-revalidate"
"""Revalidate each time (a 304 costs nothing): published to visible within one second."""
PAGES = "/public/bulletins/"
CAPS = "/public/cap/"


def key_for(path: str, query: PublicQuery) -> Hashable | None:
    """The cache entry of a public URL (None: not a public answer)."""
    if path == "/public/bulletins":
        return ("list", *query.key())
    if path == "/public/feed.atom":
        return ("feed", *query.key())
    if path.startswith(PAGES) and "/" not in path[len(PAGES) :]:
        return ("page", query.exercise, query.lang, path[len(PAGES) :])
    if path.startswith(CAPS) and path.endswith(".xml") and "/" not in path[len(CAPS) :]:
        return ("cap", query.exercise, path[len(CAPS) : -len(".xml")])
    return None


def cache_of(state: Any) -> PublicCache:
    """The app's public cache, made on first use."""
    found: PublicCache | None = getattr(state, "public_cache", None)
    if found is None:
        found = PublicCache(monotonic=time.monotonic)
        state.public_cache = found
    return found


async def read_stamp(db: Database) -> cache.Stamp:
    async with db.read() as session:
        return await cache.publication_stamp(session)


def answer(
    rendered: Rendered, *, if_none_match: str | None, if_modified_since: str | None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) for a kept rendering: 304 when the client already has it."""
    headers = {"ETag": rendered.etag, "Cache-Control": CACHE_CONTROL}
    if rendered.last_modified is not None:
        headers["Last-Modified"] = format_datetime(rendered.last_modified, usegmt=True)
    if _not_modified(rendered, if_none_match, if_modified_since):
        return 304, headers, b""
    headers["Content-Type"] = rendered.media_type
    return rendered.status, headers, rendered.body


def _not_modified(rendered: Rendered, if_none_match: str | None, since: str | None) -> bool:
    if rendered.status != 200:
        return False
    if if_none_match is not None:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        return rendered.etag in tags or "*" in tags
    if since is None or rendered.last_modified is None:
        return False
    try:
        return rendered.last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
