"""A signed-in browser's writes leave the journal's last entry in its session, so that its next
pages never predate them (`shared_pages.not_before`): one's own action shows at once, on every
instance (the session travels in its signed cookie), while others' show within a second."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crisis.app.web.shared_pages import WROTE, journal_head

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class OwnWrites:
    """Inside the session middleware: it writes the session cookie from what this sets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return

        async def noting_the_head(message: Message) -> None:
            session = scope.get("session")
            if message["type"] == "http.response.start" and session and message["status"] < 400:
                session[WROTE] = await journal_head(scope["app"].state.db)
            await send(message)

        await self.app(scope, receive, noting_the_head)
