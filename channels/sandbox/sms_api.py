"""A fake SMS gateway speaking the protocol documented in ``channels.sms``."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.sandbox.http import bearer, fake_app, fault_response
from channels.sandbox.state import FakeState, Received

__all__ = ["SmsFake"]


@dataclass(slots=True, kw_only=True)
class SmsFake:
    api_key: str
    state: FakeState = field(default_factory=lambda: FakeState(name="sms"))
    _by_key: dict[str, str] = field(default_factory=dict)
    _next: int = 1

    def app(self) -> Starlette:
        return fake_app(self.state, [Route("/sms", self._sms, methods=["GET", "POST"])])

    async def _sms(self, request: Request) -> Response:
        if bearer(request) != self.api_key:
            return JSONResponse({"error": "unauthorized"}, 401)
        if request.method == "GET":
            return JSONResponse({"status": "ok"})
        fault = await self.state.arrive()
        if fault is not None:
            return fault_response(fault)
        body = await request.json()
        to, key = str(body.get("to", "")), str(body.get("reference", ""))
        if not to.startswith("+") or to in self.state.rejected:
            return JSONResponse({"error": f"numéro refusé : {to}"}, 400)
        if key in self._by_key:
            return JSONResponse({"id": self._by_key[key], "duplicate": True})
        sms_id, self._next = f"sms-{self._next}", self._next + 1
        self._by_key[key] = sms_id
        self.state.record(
            Received(
                fake="sms",
                recipient=to,
                text=str(body.get("text", "")),
                key=key,
                meta={"from": str(body.get("from", ""))},
            )
        )
        return JSONResponse({"id": sms_id}, 201)
