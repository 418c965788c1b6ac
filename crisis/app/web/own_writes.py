"""A signed-in browser's writes leave the journal's last entry in a cookie of their own
(`WROTE_COOKIE`), so that its next pages never predate them (`shared_pages.not_before`): one's
own action shows at once, on every instance, while others' show within a second.

Only a request that committed a write sets it (`note_a_write`, a hook of the database), and it
is not the session's cookie: a request that writes nothing, such as the composer's preview sent
while its form is submitted, never carries an older session back over a newer one (a flash
message lost)."""

from __future__ import annotations

from contextvars import ContextVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crisis.app.session_checks import WROTE_COOKIE
from crisis.app.web.shared_pages import journal_head

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_wrote: ContextVar[list[bool] | None] = ContextVar("tocsin_request_wrote", default=None)


def note_a_write() -> None:
    """After each write transaction of this process: the request under way wrote."""
    flag = _wrote.get()
    if flag is not None:
        flag[0] = True


class OwnWrites:
    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self._flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        flag = [False]

        async def noting_the_head(message: Message) -> None:
            if message["type"] == "http.response.start" and flag[0] and message["status"] < 400:
                head = await journal_head(scope["app"].state.db)
                cookie = f"{WROTE_COOKIE}={head}{self._flags}"
                MutableHeaders(scope=message).append("Set-Cookie", cookie)
            await send(message)

        token = _wrote.set(flag)
        try:
            await self.app(scope, receive, noting_the_head)
        finally:
            _wrote.reset(token)
