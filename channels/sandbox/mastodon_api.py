"""A fake Mastodon: ``POST /api/v1/statuses`` honouring ``Idempotency-Key``."""

from __future__ import annotations

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


@dataclass(slots=True, kw_only=True)
class MastodonFake:
    token: str
    state: FakeState = field(default_factory=lambda: FakeState(name="mastodon"))
    base_url: str = "http://127.0.0.1"
    _by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
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
        if key and key in self._by_key:
            return JSONResponse(self._by_key[key])
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
            self._by_key[key] = status
        self.state.record(Received(fake="mastodon", recipient="@" + ACCOUNT, text=text, key=key))
        return JSONResponse(status)
