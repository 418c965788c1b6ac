"""Running a fake's Starlette app on loopback, and the routes every HTTP fake shares."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from channels.sandbox.state import DRIP, FakeState, Fault

__all__ = ["HttpServer", "bearer", "dropped_response", "fake_app", "fault_response"]


def fake_app(state: FakeState, routes: list[BaseRoute]) -> Starlette:
    async def messages(request: Request) -> Response:
        if request.method == "DELETE":
            state.reset()
            return JSONResponse({"ok": True})
        return JSONResponse(
            {
                "fake": state.name,
                "attempts": state.attempts,
                "rate_limited": state.rate_limited,
                "delivered_twice": state.delivered_twice,
                "absorbed": state.absorbed,
                "duplicates": [m.as_json() for m in state.duplicates],
                "notes": state.notes[-100:],
                "messages": [m.as_json() for m in state.received],
            }
        )

    async def faults(request: Request) -> Response:
        state.configure(await request.json())
        return JSONResponse({"ok": True})

    shared: list[BaseRoute] = [
        Route("/_sandbox/messages", messages, methods=["GET", "DELETE"]),
        Route("/_sandbox/faults", faults, methods=["POST"]),
    ]
    return Starlette(routes=shared + routes, middleware=[Middleware(_Trickle)])


class _Trickle:
    """Sends an answer's body in ``_PIECES`` pieces, ``drip`` seconds apart, when ``arrive``
    popped a drip fault for this request (the slow drip of a congested provider)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        drips: list[float] = []
        token = DRIP.set(drips)
        try:

            async def trickled(message: Message) -> None:
                body = message.get("body", b"")
                if message["type"] != "http.response.body" or not drips or not body:
                    await send(message)
                    return
                size = max(1, -(-len(body) // _PIECES))
                for start in range(0, len(body), size):
                    await asyncio.sleep(drips[0])
                    piece = body[start : start + size]
                    last = start + size >= len(body)
                    more = message.get("more_body", False) or not last
                    await send({"type": "http.response.body", "body": piece, "more_body": more})

            await self.app(scope, receive, trickled)
        finally:
            DRIP.reset(token)


_PIECES = 8


class _Dropped(Response):
    """Announces a body and closes the connection before sending it all."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": False})


def dropped_response() -> Response:
    return _Dropped()


class _QuietServer(uvicorn.Server):
    """Leaves signal handling to the host process (several servers share one loop)."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


class HttpServer:
    """A uvicorn server for one app on a socket bound before start (port 0: ephemeral)."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        self._socket.close()


def fault_response(fault: Fault, *, body: dict[str, Any] | None = None) -> Response:
    """The generic answer to a scripted fault: a dropped connection or a status. (A reset
    is served as a drop: uvicorn gives an app no way to abort its connection.)"""
    if fault.drop or fault.reset:
        return dropped_response()
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(max(0, math.ceil(fault.retry_after)))
    return JSONResponse(body or {"error": "injected fault"}, fault.status, headers=headers)


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
