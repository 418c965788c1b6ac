"""A web session's check, kept a second for the requests that only read.

Every request of a browser reads its session and user (`sessions.viewer`): under the load of
fifty people watching a crisis, more than half of the service's SQL statements were that read.
A page a browser asks for again within `FRESH_FOR` (by the app's clock) reuses the check it got
(and past half that time, the check is read again in the background; past it, a request waits
for that read under way if it began within `FRESH_FOR`, rather than read a second time beside
it: under load such a read waits long for its turn), unless:

- the request may change something (not GET or HEAD): always checked afresh;
- it is a live region's refresh (`LIVE_HEADER`) that names no entry this process has read
  (`ANNOUNCED_HEADER`, the entry its stream announced, past `latest_head`): it wants the
  journal's last entry, read with the session;
- the browser wrote since (`WROTE_COOKIE` past the journal entry the check saw): its own action
  must show;
- this process changed a session or an account since (a revocation, a logout, a deactivation,
  a role or password change: any UPDATE or DELETE of `web_session` or `user_account` on its
  database engine, touches of `last_seen_at` aside): every kept check is forgotten, at the
  statement and again at its commit.

Another process' or instance's change reaches a request that only reads within `FRESH_FOR`; a
request that writes sees it at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request

from crisis import sessions
from crisis.app.db import Database

FRESH_FOR = timedelta(seconds=1)
KEPT_PAST = 1000
"""Past that many checks kept, the expired ones go."""
LIVE_HEADER = "x-tocsin-live"
"""Sent (« 1 ») by a live region's refresh: the page as of the journal's last entry."""
ANNOUNCED_HEADER = "x-tocsin-announced"
"""Sent with `LIVE_HEADER` by a refresh that follows a stream message: the journal's last entry
when the stream computed it; the page must not predate it (`shared_pages.page_floor`)."""
WROTE_COOKIE = "tocsin_wrote"
"""The journal's last entry after the browser's own last write (`own_writes.OwnWrites`)."""
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
_WATCHED = (
    "UPDATE web_session ",
    "UPDATE user_account ",
    "DELETE FROM web_session",
    "DELETE FROM user_account",
)


@dataclass(frozen=True, slots=True)
class _Check:
    viewer: sessions.Viewer
    at: datetime
    generation: int


@dataclass(frozen=True, slots=True)
class _Renewal:
    task: asyncio.Task[sessions.Viewer | None]
    at: datetime
    generation: int


class SessionChecks:
    def __init__(self, *, fresh_for: timedelta = FRESH_FOR) -> None:
        self.fresh_for = fresh_for
        self.generation = 0
        self._kept: dict[str, _Check] = {}
        self._renewals: dict[str, _Renewal] = {}
        self._changed_uncommitted = False
        self.latest_head = 0
        """The journal's last entry as the latest of this process' checks read it."""

    def watch(self, db: Database) -> None:
        """Forget every check when this process changes a session or an account."""
        sa.event.listen(db.engine.sync_engine, "after_cursor_execute", self._heard)
        db.after_commit(self._committed)

    async def viewer(
        self,
        request: Request,
        db: Database,
        token: str,
        *,
        now: datetime,
        policy: sessions.SessionPolicy,
    ) -> sessions.Viewer | None:
        """Who `token`'s session is: the check kept for it if this request may reuse it (read
        again in the background once half its time is gone, so that a person who keeps
        looking never waits for it), else the check read again under way if it began within
        `fresh_for` (a second read beside it would only end later), else read now."""
        kept = self._recent(request, token, now=now, policy=policy)
        if kept is None:
            under_way = self._under_way(request, token, now=now)
            if under_way is not None:
                return await asyncio.shield(under_way)
            return await self._read(db, token, now=now, policy=policy)
        if now - kept.at > self.fresh_for / 2 and token not in self._renewals:
            task = asyncio.create_task(self._read(db, token, now=now, policy=policy))
            self._renewals[token] = _Renewal(task, now, self.generation)
            task.add_done_callback(lambda _: self._renewals.pop(token, None))
        return kept.viewer

    def renewals(self) -> list[asyncio.Task[sessions.Viewer | None]]:
        """The checks read again in the background, under way."""
        return [renewal.task for renewal in self._renewals.values()]

    def _under_way(
        self, request: Request, token: str, *, now: datetime
    ) -> asyncio.Task[sessions.Viewer | None] | None:
        """The check of `token` read again in the background, if this request could have
        reused the check it renews and it began within `fresh_for` (no access changed since)."""
        renewal, kept = self._renewals.get(token), self._kept.get(token)
        if renewal is None or kept is None or not self._reusable(request, kept):
            return None
        if not renewal.generation == kept.generation == self.generation:
            return None
        return renewal.task if timedelta(0) <= now - renewal.at <= self.fresh_for else None

    def _recent(
        self, request: Request, token: str, *, now: datetime, policy: sessions.SessionPolicy
    ) -> _Check | None:
        kept = self._kept.get(token)
        if kept is None or kept.generation != self.generation or not self._reusable(request, kept):
            return None
        viewer = kept.viewer
        if not timedelta(0) <= now - kept.at <= self.fresh_for:
            return None
        alive = policy.alive_at(viewer.created_at, viewer.last_seen_at, None, now=now)
        return kept if alive else None

    async def _read(
        self, db: Database, token: str, *, now: datetime, policy: sessions.SessionPolicy
    ) -> sessions.Viewer | None:
        generation = self.generation
        async with db.read_rows() as conn:
            viewer = await sessions.viewer(conn, token=token, now=now, policy=policy)
        if viewer is not None:
            self.latest_head = max(self.latest_head, viewer.journal_head)
        if viewer is None:
            self.forget(token)
        else:
            self._keep(token, viewer, now=now, generation=generation)
        return viewer

    def _keep(self, token: str, viewer: sessions.Viewer, *, now: datetime, generation: int) -> None:
        """Keep a check read while the generation was `generation` (none if it moved since)."""
        if generation != self.generation:
            return
        if len(self._kept) >= KEPT_PAST:
            self._kept = {t: c for t, c in self._kept.items() if now - c.at <= self.fresh_for}
        self._kept[token] = _Check(viewer, now, generation)

    def forget(self, token: str) -> None:
        self._kept.pop(token, None)

    def forget_all(self) -> None:
        self.generation += 1
        self._kept = {}

    def _heard(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith(_WATCHED) and _changes_access(statement):
            self._changed_uncommitted = True
            self.forget_all()

    def _reusable(self, request: Request, kept: _Check) -> bool:
        if request.method not in READ_ONLY_METHODS:
            return False
        if request.headers.get(LIVE_HEADER) == "1":
            announced = announced_head(request)
            if announced is None or announced > self.latest_head:
                return False
        written = request.cookies.get(WROTE_COOKIE, "")
        newer = written.isdigit() and (len(written) > 18 or int(written) > kept.viewer.journal_head)
        return not newer

    def _committed(self) -> None:
        """A check read between the change's statement and its commit saw the old rows."""
        if self._changed_uncommitted:
            self._changed_uncommitted = False
            self.forget_all()


def _changes_access(statement: str) -> bool:
    """Not a touch: an UPDATE of `web_session` that sets `last_seen_at` alone."""
    if not statement.startswith("UPDATE web_session "):
        return True
    return "revoked_at" in statement.partition(" WHERE ")[0]


def announced_head(request: Request) -> int | None:
    """The entry a live refresh's stream announced (`ANNOUNCED_HEADER`), if it names one."""
    given = request.headers.get(ANNOUNCED_HEADER, "")
    return int(given) if given.isdigit() and len(given) <= 18 else None


def session_checks(app: FastAPI) -> SessionChecks:
    checks: SessionChecks = app.state.session_checks
    return checks
