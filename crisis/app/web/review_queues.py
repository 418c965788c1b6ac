"""Each reviewer's queue of bulletins to validate, kept while the journal stands still.

A validator's or the prefect's dashboard lists what they may approve. That list moves only
through journaled actions (a submission, an approval, a rejection, an edit, a crisis closed,
a role changed), so the list read once the journal's last entry was N stays true until an entry
after N, whichever process or instance writes it: the same rule as `shared_pages`. Fifty people
watching a crisis no longer read the queue at every dashboard they load.
"""

from __future__ import annotations

from fastapi import Request

from crisis.actors import Actor, Role
from crisis.app.auth import get_db
from crisis.bulletin import review_queue
from crisis.bulletin.record import Bulletin

Key = tuple[int | None, frozenset[Role]]


class ReviewQueues:
    def __init__(self) -> None:
        self._head = -1
        self._queues: dict[Key, list[Bulletin]] = {}
        self.reads = 0

    async def get(self, request: Request, actor: Actor, head: int) -> list[Bulletin]:
        """`actor`'s queue as of the journal's entry `head` (read just before) or a later one:
        a session check kept a second (`session_checks`) may name an entry older than the
        queues kept."""
        if head > self._head:
            self._head, self._queues = head, {}
        key = (actor.user_id, actor.roles)
        queue = self._queues.get(key)
        if queue is None:
            self.reads += 1
            async with get_db(request).read() as session:
                queue = await review_queue.awaiting(session, actor=actor)
            if head == self._head:  # not if a newer entry was seen meanwhile
                self._queues[key] = queue
        return queue


def review_queues(request: Request) -> ReviewQueues:
    queues: ReviewQueues | None = getattr(request.app.state, "review_queues", None)
    if queues is None:
        queues = request.app.state.review_queues = ReviewQueues()
    return queues
