"""A fake Telegram Bot API: ``getMe`` and ``sendMessage`` under ``/bot{token}/``.

It enforces Telegram's flood limits the way the real service answers them: more than
``per_second`` messages in any one-second window for the bot, two messages to one chat
less than ``chat_interval`` apart, or more than ``group_per_minute`` messages in any minute
to one group (a negative chat id) or channel (``@name``), get HTTP 429 with
``parameters.retry_after``.

A message sent again to a chat with the same text is delivered again (Telegram has no
idempotency key) and noted in ``state.duplicates``: nothing else tells it from a new one.

Each message sent is recorded with its ``message_id`` (and the ``reply_to_message_id`` it
was sent in reply to, if any). ``POST /_sandbox/reply {to, text, reply_to?}`` plays a person
answering in chat ``to`` (in reply to message ``reply_to``): the fake posts the ``Update``
to the webhook set by ``reply_target``, with its secret token, as ``setWebhook`` would.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.sandbox.http import dropped_response, fake_app
from channels.sandbox.replies import ReplyTarget, answer, reply_form
from channels.sandbox.state import FakeState, Received

__all__ = ["TelegramFake"]

BOT_USERNAME = "tocsin_sandbox_bot"
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


@dataclass(slots=True, kw_only=True)
class TelegramFake:
    token: str
    state: FakeState = field(default_factory=lambda: FakeState(name="telegram"))
    enforce_limits: bool = True
    per_second: int = 30
    chat_interval: float = 1.0
    group_per_minute: int = 20
    clock: Callable[[], float] = time.monotonic
    _window: deque[float] = field(default_factory=deque)
    _last_by_chat: dict[str, float] = field(default_factory=dict)
    _group_minutes: dict[str, deque[float]] = field(default_factory=dict)
    _next_id: int = 1
    _texts: set[tuple[str, str]] = field(default_factory=set)  # (chat, text) delivered
    reply_target: ReplyTarget | None = None
    # Telegram's update_ids only grow; Tocsin ignores one it has already handled, so a
    # restarted fake must not count from 1 again: it starts from the wall clock, in ms.
    _next_update: int = field(default_factory=lambda: time.time_ns() // 1_000_000)

    def app(self) -> Starlette:
        return fake_app(
            self.state,
            [
                Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                Route("/_sandbox/reply", self._reply, methods=["POST"]),
            ],
        )

    async def _reply(self, request: Request) -> Response:
        form = await reply_form(request)
        chat, text = form.get("to", "").strip(), form.get("text", "")
        if not chat.lstrip("-").isdigit() or not text.strip():
            return JSONResponse({"error": "indiquez la discussion (numérique) et le texte"}, 400)
        reply_to = form.get("reply_to", "").strip()
        target = self.reply_target
        return await answer(
            request,
            self.state,
            reply=Received(
                fake="telegram", recipient=chat, text=text, meta={"reply_to_message": reply_to}
            ),
            target=target,
            content=json.dumps(self._update(chat, text, reply_to)).encode("utf-8"),
            headers={SECRET_TOKEN_HEADER: target.secret} if target else {},
        )

    def _update(self, chat: str, text: str, reply_to: str) -> dict[str, Any]:
        """The ``Update`` Telegram would post for this message from a person."""
        person = {"id": int(chat), "is_bot": False, "first_name": "Bac à sable"}
        message: dict[str, Any] = {
            "message_id": self._next_id,
            "date": int(time.time()),
            "chat": {"id": int(chat), "type": "private" if int(chat) > 0 else "group"},
            "from": person,
            "text": text,
        }
        self._next_id += 1
        if reply_to.isdigit():
            answered = {"message_id": int(reply_to), "chat": message["chat"], "date": 0}
            message["reply_to_message"] = answered
        update = {"update_id": self._next_update, "message": message}
        self._next_update += 1
        return update

    def _flood_wait(self, chat: str, now: float) -> float:
        """Seconds to wait before this message would be accepted; 0 when it is accepted."""
        if not self.enforce_limits:
            return 0.0
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        waits = []
        if len(self._window) >= self.per_second:
            waits.append(1.0 - (now - self._window[0]))
            self.state.notes.append(f"bot: {len(self._window)} in the last second")
        last = self._last_by_chat.get(chat)
        if last is not None and now - last < self.chat_interval:
            waits.append(self.chat_interval - (now - last))
            self.state.notes.append(f"chat {chat}: {now - last:.3f} s after the previous")
        if chat.startswith(("-", "@")):
            minute = self._group_minutes.setdefault(chat, deque())
            while minute and now - minute[0] >= 60.0:
                minute.popleft()
            if len(minute) >= self.group_per_minute:
                waits.append(60.0 - (now - minute[0]))
                self.state.notes.append(f"group {chat}: {len(minute)} in the last minute")
        return max(waits, default=0.0)

    async def _endpoint(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        fault = await self.state.arrive()
        if fault is not None:
            if fault.drop or fault.reset:
                return dropped_response()
            if fault.status == 429:
                retry = max(1, math.ceil(fault.retry_after or 1))
                return _error(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
            return _error(fault.status, "Internal Server Error")
        method = request.path_params["method"]
        if method == "getMe":
            return _ok(
                {"id": 4242, "is_bot": True, "first_name": "Tocsin", "username": BOT_USERNAME}
            )
        if method != "sendMessage":
            return _error(404, "Not Found: method not found")
        params = await _params(request)
        chat = str(params.get("chat_id", ""))
        text = str(params.get("text", ""))
        if not chat or not text:
            return _error(400, "Bad Request: message text is empty")
        if chat in self.state.rejected:
            return _error(403, "Forbidden: bot was blocked by the user")
        now = self.clock()
        wait = self._flood_wait(chat, now)
        if wait > 0:
            self.state.rate_limited += 1
            retry = max(1, math.ceil(wait))
            return _error(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        self._window.append(now)
        self._last_by_chat[chat] = now
        if chat.startswith(("-", "@")):
            self._group_minutes.setdefault(chat, deque()).append(now)
        message_id, self._next_id = self._next_id, self._next_id + 1
        meta = {"message_id": str(message_id)}
        if params.get("reply_to_message_id"):
            meta["reply_to_message"] = str(params["reply_to_message_id"])
        message = Received(fake="telegram", recipient=chat, text=text, meta=meta)
        if (chat, text) in self._texts:
            self.state.duplicate(message, absorbed=False)
        self._texts.add((chat, text))
        self.state.record(message)
        is_channel = chat.startswith("@")
        chat_obj: dict[str, Any] = (
            {
                "id": -1000000000000 - zlib.crc32(chat.encode()) % 10**9,
                "type": "channel",
                "title": chat,
            }
            if is_channel
            else {"id": int(chat), "type": "private" if int(chat) > 0 else "group"}
        )
        if is_channel:
            chat_obj["username"] = chat[1:]
        return _ok(
            {"message_id": message_id, "date": int(time.time()), "chat": chat_obj, "text": text}
        )


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _ok(result: dict[str, Any]) -> Response:
    return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str, *, retry_after: int | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=code)
