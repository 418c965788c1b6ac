"""A fake Mastodon: ``POST /api/v1/statuses`` honouring ``Idempotency-Key``.

As Mastodon does, a key seen less than an hour ago answers the status it made the first time
and posts nothing (noted in ``state.duplicates``, absorbed); a status with a text already
posted under another key, or none, is posted again (noted, delivered twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.sandbox.http import bearer, fake_app, fault_response
from channels.sandbox.state import FakeState, Received

__all__ = ["MastodonFake"]

ACCOUNT = "prefecture"
KEY_LIFETIME = 3600.0  # seconds Mastodon keeps an Idempotency-Key


@dataclass(slots=True, kw_only=True)
class MastodonFake:
    token: str
    state: FakeState = field(default_factory=lambda: FakeState(name="mastodon"))
    base_url: str = "http://127.0.0.1"
    clock: Callable[[], float] = time.monotonic
    _by_key: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    _texts: set[str] = field(default_factory=set)
    _next_id: int = 110_000_000_000_000_000

    def app(self) -> Starlette:
        return fake_app(
            self.state,
            [
                Route("/api/v1/statuses", self._post, methods=["POST"]),
                Route("/api/v1/accounts/verify_credentials", self._me, methods=["GET"]),
            ],
        )

    async def _me(self, request: Request) -> Response:
        if bearer(request) != self.token:
            return JSONResponse({"error": "The access token is invalid"}, 401)
        return JSONResponse({"id": "1", "username": ACCOUNT, "acct": ACCOUNT})

    async def _post(self, request: Request) -> Response:
        if bearer(request) != self.token:
            return JSONResponse({"error": "The access token is invalid"}, 401)
        fault = await self.state.arrive()
        if fault is not None:
            return fault_response(fault, body={"error": "Throttled"})
        key = request.headers.get("idempotency-key", "")
        known = self._by_key.get(key) if key else None
        if known is not None and self.clock() - known[0] < KEY_LIFETIME:
            status = known[1]
            self.state.duplicate(
                Received(fake="mastodon", recipient="@" + ACCOUNT, text=status["content"], key=key),
                absorbed=True,
            )
            return JSONResponse(status)
        if request.headers.get("content-type", "").startswith("application/json"):
            params = await request.json()
        else:
            params = dict(await request.form())
        text = str(params.get("status", ""))
        if not text.strip():
            return JSONResponse({"error": "Validation failed: Text can't be blank"}, 422)
        if len(text) > 500:
            return JSONResponse({"error": "Validation failed: Text character limit of 500"}, 422)
        status_id = str(self._next_id)
        self._next_id += 1
        status = {
            "id": status_id,
            "url": f"{self.base_url}/@{ACCOUNT}/{status_id}",
            "content": text,
            "visibility": params.get("visibility", "public"),
        }
        if key:
            self._by_key[key] = (self.clock(), status)
        message = Received(fake="mastodon", recipient="@" + ACCOUNT, text=text, key=key)
        if text in self._texts:
            self.state.duplicate(message, absorbed=False)
        self._texts.add(text)
        self.state.record(message)
        return JSONResponse(status)
