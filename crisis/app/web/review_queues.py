"""Each reviewer's queue of bulletins to validate, kept while nothing journaled moves it.

A validator's or the prefect's dashboard lists what they may approve. That list moves only
through journaled actions on bulletins (a submission, an approval, a rejection, an edit, a
publication: `MOVING_ACTIONS`) or crises (one closed, by hand or at a drill's end); a role
changed makes another key. So the list read once the journal's last entry was N stays true
until an entry after N of those kinds, whichever process or instance writes it. When the
journal moves on, one read of the entries since (a range of the primary key) says whether any
of them is of those kinds: while the CIP logs calls and a drill runs, the journal moves several
times a second and the queues are kept. Journal entries are numbered in the order they commit
(`crisis.journal` locks the journal's head until its commit), so no entry is seen after a later
one.

As shared pages serve their copy (`shared_pages.STALE_FOR`), queues checked within the past five
seconds serve a request at once while the check of what was journaled since runs behind it:
what others did shows within five seconds, usually at the next page. The viewer's own action
(`shared_pages.not_before`) always waits for the check. Under load a check waits long for its
turn (a second and more on a full machine): kept only a second, as first written, queues made
two in five of the dashboard's slow answers wait for one.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import sqlalchemy as sa
from fastapi import Request

from crisis.actors import Actor, Role
from crisis.app.auth import get_clock, get_db
from crisis.app.db import Database
from crisis.app.web.shared_pages import STALE_FOR, not_before
from crisis.bulletin import review_queue
from crisis.bulletin.record import Bulletin
from crisis.journal import JournalEntry

Key = tuple[int | None, frozenset[Role]]
MOVING_ACTIONS = (
    "bulletin.edited",
    "bulletin.submitted",
    "bulletin.approved",
    "bulletin.rejected",
    "bulletin.published",
    "crisis.closed",
)
"""The journal actions that may move a review queue: a bulletin's status or its authors (four
eyes), its crisis closed (`lifecycle.close`, also at a drill's end). Not the others of a
bulletin, such as `bulletin.to_call`, written while its deliveries go out."""

_ENTRY = JournalEntry.__table__.c  # type: ignore[attr-defined]


async def queue_moved(db: Database, after: int, upto: int) -> bool:
    """Whether an entry in (after, upto] may move a queue."""
    query = (
        sa.select(_ENTRY.id)
        .where(
            _ENTRY.id > after,
            _ENTRY.id <= upto,
            _ENTRY.action.in_(MOVING_ACTIONS),
        )
        .limit(1)
    )
    async with db.read_rows() as connection:
        return (await connection.scalar(query)) is not None


class ReviewQueues:
    def __init__(self) -> None:
        self._head = -1
        self._generation = 0
        self._queues: dict[Key, list[Bulletin]] = {}
        self._catching_up: tuple[int, asyncio.Future[None]] | None = None
        self._checked_at: datetime | None = None
        """When the queues were last known true as of `_head` (the app's clock)."""
        self.kept_for = timedelta(seconds=STALE_FOR)
        self.reads = 0
        self.checks = 0

    async def get(self, request: Request, actor: Actor, head: int) -> list[Bulletin]:
        """`actor`'s queue as of the journal's entry `head` (read just before) or a later one:
        a session check kept a second (`session_checks`) may name an entry older than the
        queues kept."""
        db, now = get_db(request), get_clock(request).now()
        if head > self._head:
            checking = self._catch_up(db, head, now)
            if not self._recent(request, now):
                await asyncio.shield(checking)
        key = (actor.user_id, actor.roles)
        queue = self._queues.get(key)
        if queue is None:
            self.reads += 1
            generation = self._generation
            async with db.read() as session:
                queue = await review_queue.awaiting(session, actor=actor)
            if generation == self._generation:  # not if a queue moved meanwhile
                self._queues[key] = queue
        return queue

    def checking(self) -> list[asyncio.Future[None]]:
        """The check under way, if any."""
        running = self._catching_up
        return [running[1]] if running and not running[1].done() else []

    def _recent(self, request: Request, now: datetime) -> bool:
        """Checked within `kept_for`, and not before the viewer's own last action."""
        wanted = not_before(request)
        checked = self._checked_at
        if wanted is None or wanted > self._head or checked is None:
            return False
        return timedelta(0) <= now - checked <= self.kept_for

    def _catch_up(self, db: Database, head: int, now: datetime) -> asyncio.Future[None]:
        """The check that makes the queues known true as of `head`: one serves every request
        up to its entry; a request past it starts its own, side by side."""
        running = self._catching_up
        if running is None or running[0] < head or running[1].done():
            task = asyncio.ensure_future(self._check(db, self._head, head, now))
            task.add_done_callback(_retrieved)  # a failure is the awaiting requests' error
            running = self._catching_up = (head, task)
        return running[1]

    async def _check(self, db: Database, after: int, upto: int, now: datetime) -> None:
        moved = after < 0 or await queue_moved(db, after, upto)
        self.checks += 1
        if moved:
            self._generation += 1
            self._queues = {}
        if upto >= self._head:
            self._head, self._checked_at = upto, now


def _retrieved(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()


def review_queues(request: Request) -> ReviewQueues:
    queues: ReviewQueues | None = getattr(request.app.state, "review_queues", None)
    if queues is None:
        queues = request.app.state.review_queues = ReviewQueues()
    return queues
