"""SQLite's writers of one process, taken in turn.

SQLite lets one writer in at a time; a connection that finds the lock taken sleeps in its busy
handler and tries again (after 1, 2, 5… up to 100 ms), out of any order: under a burst of
twenty writes the lock sits free while the waiters sleep, and the unlucky ones wait seconds.
Within a process the writers queue here instead, first come first served, and each takes
SQLite's lock the moment the previous one commits. Other processes (the worker, a command)
still meet the busy handler. A write opened inside another of the same task does not queue
behind itself; a writer that waits longer than its busy time goes on without its turn, to
SQLite's lock as before.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class _Turn:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.holder: asyncio.Task[object] | None = None


class WriteTurns:
    """One queue per event loop (a `Database` may serve several loops, one after the other)."""

    def __init__(self) -> None:
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turn] = (
            weakref.WeakKeyDictionary()
        )

    def _turn(self) -> _Turn:
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = _Turn()
        return turn

    @asynccontextmanager
    async def taken(self, *, wait_ms: int) -> AsyncIterator[None]:
        turn = self._turn()
        task = asyncio.current_task()
        if task is not None and turn.holder is task:
            yield
            return
        try:
            async with asyncio.timeout(wait_ms / 1000):
                await turn.lock.acquire()
        except TimeoutError:
            yield
            return
        turn.holder = task
        try:
            yield
        finally:
            turn.holder = None
            turn.lock.release()
