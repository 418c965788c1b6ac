"""The public answers a flood asks for, served straight from the cache.

A kept public answer (`crisis.app.web.public_http`) needs no routing, no session, no
dependency and no access-log line: this ASGI layer, just inside the security headers, answers
a GET or HEAD for it at once (304 included). Anything else — a first request, a malformed value, an
unknown id, any other path — goes on to the application, which builds, refuses or logs as
usual; the answer it builds is then kept for the next ones. Hits are counted in
`tocsin_public_cache_hits_total`."""

from __future__ import annotations

from urllib.parse import parse_qsl

from prometheus_client import CollectorRegistry, Counter
from starlette.types import ASGIApp, Receive, Scope, Send

from crisis.app.web.public_http import answer, cache_of, key_for, read_stamp
from crisis.errors import DomainError
from crisis.public.inputs import public_query

READ = ("mode", "commune", "lang")
READS = ("GET", "HEAD")


class PublicFastPath:
    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self.app = app
        self.hits = Counter(
            "tocsin_public_cache_hits",
            "Réponses publiques servies depuis le cache sans passer par l'application.",
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in READS or not _public(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            values = dict(parse_qsl(scope["query_string"].decode("latin-1")))
            query = public_query(**{k: v for k, v in values.items() if k in READ})
        except (DomainError, UnicodeError, ValueError):
            await self.app(scope, receive, send)  # the application says why it refuses
            return
        key = key_for(scope["path"], query)
        state = scope["app"].state
        kept = None
        if key is not None:
            kept = await cache_of(state).kept(key, read_stamp=lambda: read_stamp(state.db))
        if kept is None:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status, out, body = answer(
            kept,
            if_none_match=headers.get("if-none-match"),
            if_modified_since=headers.get("if-modified-since"),
        )
        out["Content-Length"] = str(len(body))
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out.items()]
        self.hits.inc()
        await send({"type": "http.response.start", "status": status, "headers": raw})
        head = scope["method"] == "HEAD"
        await send({"type": "http.response.body", "body": b"" if head else body})


def _public(path: str) -> bool:
    return path.startswith("/public/")
