"""Whole pages rendered once per state of the crisis record and visibility class, for everyone.

Fifty people watching a crisis ask for the same dashboard, crisis page and tracking page again
and again; each rendering costs milliseconds of the one process' time. A `SharedPages` keeps
each page's HTML per path and visibility class (what the viewer may see: roles, personal data,
their own review queue) and serves it again while it is current:

- a page is rendered again once `MAX_AGE` old by the app's clock (`crisis.app.clock`): the
  first request past that age starts the next rendering and gets the copy, as does every
  request until that rendering is done; a copy older than `STALE_FOR` is never served (the
  request waits for the rendering under way, else starts one: under load a rendering can
  outlast the copy's last seconds, and a second one beside it would only end later). What
  others did, journaled or not, in whichever process or instance (a call logged at the CIP,
  deliveries going out, the time that makes a clock late), shows within `STALE_FOR` and the
  rendering then under way, usually within `MAX_AGE` and one rendering. While the CIP logs a
  call every few seconds and a drill runs, the journal moves several times a second: a page
  rendered again at each entry would be rendered for nearly every viewer;
- the viewer's own actions show at once: every write of a browser leaves in a cookie the
  journal's last entry after it (`OwnWrites`, crisis/app/web/own_writes.py), and a page
  rendered before that entry is not served to them;
- a live region refreshing after the stream said something changed (`LIVE_HEADER`, sent by
  tocsin.js) gets a page that does not predate the journal entry the stream's message named
  (`ANNOUNCED_HEADER`: `page_floor`), so that what the stream announced is there; every
  refresh after one message is served by one rendering, however fast the journal moves after
  it. Without that entry, or naming one this process has not read, it gets the page as of the
  journal's last entry (read with its session: `request_journal_head`).

The first request after a change of its own or past `STALE_FOR` renders, the others wait for
that rendering; under load, a rendering waits for many turns of the event loop, and nobody
waits for one while a copy is recent enough (the tail of the pages' times under load was the
requests waiting for one). The viewer's own
CSRF token and login are put back in the copy each one gets; a request carrying a flash message
is rendered for itself (the message is shown once, to that person).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

from crisis.app.auth import csrf_token, get_clock, get_db
from crisis.app.db import Database
from crisis.app.session_checks import LIVE_HEADER, WROTE_COOKIE, announced_head
from crisis.journal import JournalEntry

MAX_AGE = 1.0
"""Seconds after which a page is rendered again (its copy served meanwhile: `STALE_FOR`)."""
STALE_FOR = 5.0
"""Seconds a page past `MAX_AGE` is still served, while its next rendering is under way."""
PRUNED_PAST = 100
"""Past that many pages kept, those older than `STALE_FOR` go."""
CSRF_MARK = "\x00csrf\x00"
LOGIN_MARK = "\x00login\x00"
Render = Callable[[], Awaitable[HTMLResponse]]
Visibility = tuple[Any, ...]

logger = logging.getLogger(__name__)

_HEAD = sa.select(sa.func.max(JournalEntry.__table__.c.id))  # type: ignore[attr-defined]


async def journal_head(db: Database) -> int:
    """The id of the journal's last entry (0: none): one statement on a pooled connection, no
    ORM session (a third to a half less of the processor time every shared page costs)."""
    async with db.read_rows() as connection:
        return int((await connection.scalar(_HEAD)) or 0)


async def request_journal_head(request: Request) -> int:
    """The journal's last entry as this request saw it: read with its web session (`auth`, in
    the same statement), else now. Read before any rendering, it can only make a page look
    older than it is, never newer."""
    head: int | None = getattr(request.state, "journal_head", None)
    return head if head is not None else await journal_head(get_db(request))


def _login_text(login: str) -> str:
    """How the page's header names the viewer (base.html)."""
    return f"Mon compte ({escape(login)})"


def not_before(request: Request) -> int | None:
    """The journal entry the page this request gets must not predate: the viewer's own last
    write (0: none), or None for the journal's last entry: a live region's refresh, and a
    cookie naming an entry past the last one the request saw (forged: as strict as can be)."""
    if request.headers.get(LIVE_HEADER) == "1":
        return None
    written = request.cookies.get(WROTE_COOKIE, "")
    if not written.isdigit() or len(written) > 18:
        return 0
    seen: int | None = getattr(request.state, "journal_head", None)
    return None if seen is not None and int(written) > seen else int(written)


def announced_floor(request: Request) -> int | None:
    """For a live refresh naming the entry its stream announced, read by this request or
    before it in this process (`session_checks.latest_head`): that entry; else None."""
    if request.headers.get(LIVE_HEADER) != "1":
        return None
    announced = announced_head(request)
    seen: int | None = getattr(request.state, "journal_head", None)
    return announced if announced is not None and seen is not None and announced <= seen else None


def page_floor(request: Request) -> int | None:
    """The entry the page this request gets must not predate (None: the journal's last one):
    `announced_floor`, else `not_before`."""
    announced = announced_floor(request)
    return announced if announced is not None else not_before(request)


@dataclass(slots=True)
class _Page:
    head: int
    at: datetime
    task: asyncio.Future[tuple[int, str]]
    renewal: _Page | None = None
    """The next rendering, started once this copy is past `max_age` and served meanwhile: it
    replaces this copy once done, or as soon as this copy is too old to be served (requests
    then wait for it, not for a second rendering beside it)."""

    def current(self, latest: int, since: int | None, now: datetime, max_age: timedelta) -> bool:
        """Within `max_age`, and as of the journal's `latest` entry (``since`` None) or not
        before `since`."""
        if not timedelta(0) <= now - self.at <= max_age:
            return False
        if (self.head != latest) if since is None else (self.head < since):
            return False
        return not (self.task.done() and _failed(self.task))

    def rendered(self) -> bool:
        return self.task.done() and not _failed(self.task)


def _failed(task: asyncio.Future[tuple[int, str]]) -> bool:
    return task.cancelled() or task.exception() is not None


class SharedPages:
    def __init__(self, *, max_age: float = MAX_AGE, stale_for: float = STALE_FOR) -> None:
        self.max_age = timedelta(seconds=max_age)
        self.stale_for = timedelta(seconds=stale_for)
        self._pages: dict[tuple[str, Visibility], _Page] = {}
        self.renders = 0

    async def get(
        self, request: Request, visibility: Visibility, render: Render, *, head: int | None = None
    ) -> HTMLResponse:
        """The page as `page_floor(request)` asks, the journal's last entry being `head` (read
        here when not given)."""
        if request.session.get("flashes"):
            return await render()
        if head is None:
            head = await request_journal_head(request)
        wanted = page_floor(request)
        key = (f"{request.url.path}?{request.url.query}", visibility)
        now = get_clock(request).now()
        page = self._pages.get(key)
        if page is None or not page.current(head, wanted, now, self.max_age):
            renewal = page.renewal if page is not None else None
            if page is not None and page.current(head, wanted, now, self.stale_for):
                if renewal is None and page.rendered():  # else wait for the rendering under way
                    page.renewal = self._renewal(key, page, request, render, head=head, at=now)
            elif renewal is not None and renewal.current(head, wanted, now, self.stale_for):
                page = self._pages[key] = renewal
            else:
                if len(self._pages) >= PRUNED_PAST:
                    self._pages = {
                        k: v
                        for k, v in self._pages.items()
                        if v.current(head, 0, now, self.stale_for)
                    }
                page = _Page(head, now, asyncio.create_task(self._render(request, render)))
                self._pages[key] = page
        status, body = await asyncio.shield(page.task)
        return HTMLResponse(self._personal(request, body), status_code=status)

    def renewals(self) -> list[asyncio.Future[tuple[int, str]]]:
        """The renderings under way while their page's copy is served."""
        pages = self._pages.values()
        return [p.renewal.task for p in pages if p.renewal and not p.renewal.task.done()]

    def _renewal(
        self,
        key: tuple[str, Visibility],
        served: _Page,
        request: Request,
        render: Render,
        *,
        head: int,
        at: datetime,
    ) -> _Page:
        """`served`'s next rendering; it replaces `served` once done (unless replaced since)."""
        renewal = _Page(head, at, asyncio.create_task(self._render(request, render)))

        def done(task: asyncio.Future[tuple[int, str]]) -> None:
            if _failed(task):
                failure = None if task.cancelled() else task.exception()
                logger.warning("Rendu partagé de %s en échec", key[0], exc_info=failure)
                if served.renewal is renewal:  # the next request tries again
                    served.renewal = None
            elif self._pages.get(key) is served:
                self._pages[key] = renewal

        renewal.task.add_done_callback(done)
        return renewal

    async def _render(self, request: Request, render: Render) -> tuple[int, str]:
        self.renders += 1
        response = await render()
        body = bytes(response.body).decode().replace(csrf_token(request), CSRF_MARK)
        actor = getattr(request.state, "actor", None)
        if actor is not None:
            body = body.replace(_login_text(actor.login), LOGIN_MARK)
        return response.status_code, body

    @staticmethod
    def _personal(request: Request, body: str) -> str:
        body = body.replace(CSRF_MARK, csrf_token(request))
        actor = getattr(request.state, "actor", None)
        return body.replace(LOGIN_MARK, _login_text(actor.login) if actor else "")


def shared_pages(request: Request) -> SharedPages:
    cache: SharedPages | None = getattr(request.app.state, "shared_pages", None)
    if cache is None:
        cache = request.app.state.shared_pages = SharedPages()
    return cache


async def shared_page(
    request: Request, visibility: Visibility, render: Render, *, head: int | None = None
) -> HTMLResponse:
    """`render()`'s page, rendered at most once a second for each visibility, and again for
    a viewer's own action or a live region's refresh."""
    return await shared_pages(request).get(request, visibility, render, head=head)
