"""A fake X API v2: ``POST /2/tweets`` and ``GET /2/users/me`` (OAuth 1.0a user context).

Identical text from the account is refused with 403 duplicate content, as X does (noted in
``state.duplicates``, absorbed: X has no idempotency key, this refusal is what stops a
resend); when
more than ``limit`` posts arrive in a window, 429 with ``x-rate-limit-reset``. A reply
(``reply.in_reply_to_tweet_id``) is recorded with the id it answers (``meta["in_reply_to"]``,
shown on the sandbox page); a reply to an id this fake never issued gets X's 403.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.sandbox.http import dropped_response, fake_app
from channels.sandbox.state import FakeState, Fault, Received

__all__ = ["XFake"]

USERNAME = "prefecture_sandbox"
_UNKNOWN_PARENT = "You attempted to reply to a Tweet that is deleted or not visible to you."


@dataclass(slots=True, kw_only=True)
class XFake:
    consumer_key: str
    state: FakeState = field(default_factory=lambda: FakeState(name="x"))
    limit: int | None = None
    window: float = 900.0
    _posted: dict[str, str] = field(default_factory=dict)  # text -> id
    _ids: set[str] = field(default_factory=set)
    _requests: int = 0  # post requests seen
    _planned: dict[int, Fault] = field(default_factory=dict)  # request number -> fault
    _window_start: float = 0.0
    _in_window: int = 0
    _next_id: int = 1_800_000_000_000_000_000

    def fail_request(
        self, number: int, *, status: int = 0, retry_after: float | None = None, drop: bool = False
    ) -> None:
        """Script a fault for the ``number``-th post request from now (1: the next one), so
        that a thread can fail on its second part."""
        fault = Fault(status=status, retry_after=retry_after, drop=drop)
        self._planned[self._requests + number] = fault

    def app(self) -> Starlette:
        return fake_app(
            self.state,
            [
                Route("/2/tweets", self._tweet, methods=["POST"]),
                Route("/2/users/me", self._me, methods=["GET"]),
            ],
        )

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("OAuth ") and f'oauth_consumer_key="{self.consumer_key}"' in header

    async def _me(self, request: Request) -> Response:
        if not self._authorized(request):
            return _problem(401, "Unauthorized")
        return JSONResponse({"data": {"id": "1", "name": "Préfecture", "username": USERNAME}})

    async def _tweet(self, request: Request) -> Response:
        if not self._authorized(request):
            return _problem(401, "Unauthorized")
        fault = await self.state.arrive()
        self._requests += 1
        planned = self._planned.pop(self._requests, None)
        if planned is not None:
            fault = planned
            self.state.rate_limited += planned.status == 429
        now = time.time()
        if fault is not None:
            if fault.drop or fault.reset:
                return dropped_response()
            if fault.status == 429:
                return _rate_limited(now + (fault.retry_after or 1.0))
            return _problem(fault.status, "Service Unavailable")
        if self.limit is not None:
            if now - self._window_start >= self.window:
                self._window_start, self._in_window = now, 0
            if self._in_window >= self.limit:
                self.state.rate_limited += 1
                return _rate_limited(self._window_start + self.window)
            self._in_window += 1
        payload = await request.json()
        text = str(payload.get("text", ""))
        in_reply_to = str((payload.get("reply") or {}).get("in_reply_to_tweet_id") or "")
        if in_reply_to and in_reply_to not in self._ids:
            return _problem(403, _UNKNOWN_PARENT, title="Forbidden")
        if text in self._posted:
            self.state.duplicate(
                Received(fake="x", recipient="@" + USERNAME, text=text, key=self._posted[text]),
                absorbed=True,
            )
            return _problem(403, "You are not allowed to create a Tweet with duplicate content.")
        tweet_id = str(self._next_id)
        self._next_id += 1
        self._posted[text] = tweet_id
        self._ids.add(tweet_id)
        meta = {"in_reply_to": in_reply_to} if in_reply_to else {}
        self.state.record(
            Received(fake="x", recipient="@" + USERNAME, text=text, key=tweet_id, meta=meta)
        )
        return JSONResponse({"data": {"id": tweet_id, "text": text}}, status_code=201)


def _rate_limited(reset: float) -> Response:
    return JSONResponse(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        status_code=429,
        headers={"x-rate-limit-reset": str(int(reset) + 1), "x-rate-limit-remaining": "0"},
    )


def _problem(status: int, detail: str, *, title: str | None = None) -> Response:
    return JSONResponse(
        {"title": title or detail, "detail": detail, "type": "about:blank", "status": status},
        status_code=status,
    )
