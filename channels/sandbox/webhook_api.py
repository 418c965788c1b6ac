"""A webhook receiver that checks the HMAC-SHA256 signature of what it receives."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.sandbox.http import fake_app, fault_response
from channels.sandbox.state import FakeState, Received

__all__ = ["WebhookFake"]


@dataclass(slots=True, kw_only=True)
class WebhookFake:
    secret: str
    state: FakeState = field(default_factory=lambda: FakeState(name="webhook"))
    _seen: set[str] = field(default_factory=set)
    payloads: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(hook name, JSON body) of each message received once: what a receiving site reads."""

    def app(self) -> Starlette:
        return fake_app(self.state, [Route("/hook/{name}", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        raw = await request.body()
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-tocsin-signature", "")):
            return JSONResponse({"error": "bad signature"}, 401)
        fault = await self.state.arrive()
        if fault is not None:
            return fault_response(fault)
        name = request.path_params["name"]
        if name in self.state.rejected:
            return JSONResponse({"error": "gone"}, 410)
        payload = json.loads(raw)
        key = request.headers.get("x-tocsin-idempotency-key", "")
        if key not in self._seen:
            self._seen.add(key)
            self.payloads.append((name, payload))
            self.state.record(
                Received(
                    fake="webhook",
                    recipient=str(request.url),
                    text=str(payload.get("text", "")),
                    subject=str(payload.get("subject", "")),
                    key=key,
                )
            )
        return JSONResponse({"ok": True}, headers={"X-Request-Id": key})
