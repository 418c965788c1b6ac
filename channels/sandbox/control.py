"""What another process needs to share a running sandbox: where its fakes listen, and the two
orders a demo gives its own sandbox (where simulated replies go, a link shown on its page).

`tocsin serve --demo --sandbox URL` reads ``GET /_sandbox/urls`` and sends its orders to
``POST /_sandbox/orders``; several demo instances on one PostgreSQL then send to one sandbox,
under one budget per account, as a prefecture's instances share one relay. Loopback only, like
every fake: the URLs and the sandbox's fixed credentials are no secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class Obeys(Protocol):
    """The running sandbox the orders reach."""

    def answer_to(self, base_url: str) -> None: ...

    def publish_url(self, name: str, url: str) -> None: ...


def control_routes(urls: Mapping[str, str], sandbox: Obeys) -> list[Route]:
    async def listening(request: Request) -> Response:
        return JSONResponse(dict(urls))

    async def orders(request: Request) -> Response:
        try:
            order = await request.json()
        except ValueError:
            return JSONResponse({"error": "JSON attendu"}, status_code=400)
        match order:
            case {"answer_to": str(base_url)} if _http(base_url):
                sandbox.answer_to(base_url)
            case {"publish_url": {"name": str(name), "url": str(url)}} if _shown(name, url):
                sandbox.publish_url(name, url)
            case _:
                return JSONResponse({"error": "ordre inconnu"}, status_code=400)
        return Response(status_code=204)

    return [
        Route("/_sandbox/urls", listening, methods=["GET"]),
        Route("/_sandbox/orders", orders, methods=["POST"]),
    ]


def _http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


PUBLISHED = frozenset({"cip_inbox", "cip_address"})
"""What a demo shows on the page: where to write to its CIP. Never a fake's own address."""


def _shown(name: str, value: str) -> bool:
    """An address or an smtp URL, never a `javascript:` link."""
    scheme = urlsplit(value).scheme if ":" in value else ""
    return name in PUBLISHED and scheme in ("", "smtp") and len(value) < 500
