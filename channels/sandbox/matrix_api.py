"""A fake Matrix homeserver: send, whoami and createRoom of the client-server API v3.

A transaction id already used by the same access token returns the first event id and
adds nothing, as the specification requires; the resend is noted in ``state.duplicates``
(absorbed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.sandbox.http import bearer, fake_app, fault_response
from channels.sandbox.state import FakeState, Received

__all__ = ["MatrixFake"]

_API = "/_matrix/client/v3"
USER_ID = "@tocsin:sandbox.local"


@dataclass(slots=True, kw_only=True)
class MatrixFake:
    token: str
    state: FakeState = field(default_factory=lambda: FakeState(name="matrix"))
    _events: dict[tuple[str, str], str] = field(default_factory=dict)
    _next: int = 1

    def app(self) -> Starlette:
        return fake_app(
            self.state,
            [
                Route(_API + "/account/whoami", self._whoami, methods=["GET"]),
                Route(_API + "/createRoom", self._create_room, methods=["POST"]),
                Route(_API + "/rooms/{room}/send/{event_type}/{txn}", self._send, methods=["PUT"]),
            ],
        )

    def _unauthorized(self, request: Request) -> Response | None:
        if bearer(request) == self.token:
            return None
        return JSONResponse({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid token"}, 401)

    async def _whoami(self, request: Request) -> Response:
        return self._unauthorized(request) or JSONResponse({"user_id": USER_ID})

    async def _create_room(self, request: Request) -> Response:
        if (refused := self._unauthorized(request)) is not None:
            return refused
        invite = (await request.json()).get("invite", [])
        if any(user in self.state.rejected for user in invite):
            return JSONResponse({"errcode": "M_FORBIDDEN", "error": "Cannot invite user"}, 403)
        room, self._next = f"!direct{self._next}:sandbox.local", self._next + 1
        return JSONResponse({"room_id": room})

    async def _send(self, request: Request) -> Response:
        if (refused := self._unauthorized(request)) is not None:
            return refused
        fault = await self.state.arrive()
        if fault is not None:
            body = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests"}
            if fault.retry_after is not None:
                body["retry_after_ms"] = int(fault.retry_after * 1000)  # type: ignore[assignment]
            return fault_response(fault, body=body)
        room, txn = request.path_params["room"], request.path_params["txn"]
        if room in self.state.rejected:
            return JSONResponse(
                {"errcode": "M_FORBIDDEN", "error": "User not in room"}, status_code=403
            )
        content = await request.json()
        message = Received(
            fake="matrix", recipient=room, text=str(content.get("body", "")), key=txn
        )
        known = self._events.get((self.token, txn))
        if known is not None:
            self.state.duplicate(message, absorbed=True)
            return JSONResponse({"event_id": known})
        event_id, self._next = f"$event{self._next}", self._next + 1
        self._events[(self.token, txn)] = event_id
        self.state.record(message)
        return JSONResponse({"event_id": event_id})
