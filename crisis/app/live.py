"""What wakes the live pages' event stream (`/flux`) when the journal grows, on any instance.

Every stream of a process waits on one `JournalSignal`: a generation counter and an event
replaced at each wake-up, so that one `wake()` reaches every waiting stream at once. A woken
stream re-reads the journal length and sends `change` when it moved.

On PostgreSQL, a `JournalListener` holds one dedicated asyncpg connection per process that
LISTENs on `tocsin_journal`: migration c1a7e5d20f31 makes every statement inserting journal
entries NOTIFY that channel, heard at commit, whichever instance or command wrote. When the
connection drops, the listener wakes the streams (they go back to polling at the tick),
reconnects with exponential back-off (0.5 s doubling up to 30 s) and wakes them again once
listening, for what it may have missed meanwhile. It never raises into the app: a database
that is down only means polling until it is back. A `SELECT 1` every 30 s of silence shows a
connection that died without a word (half-open TCP).

On SQLite there is no listener (nothing like NOTIFY): streams poll every `tick_seconds`, as
they always did. With a listener up they still poll, as a safety net, every
`max(FALLBACK_SECONDS, tick_seconds)`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from crisis.app.db import Database

log = logging.getLogger("tocsin.live")

CHANNEL = "tocsin_journal"
APPLICATION_NAME = "tocsin-journal-listener"
FALLBACK_SECONDS = 15.0
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class JournalSignal:
    """A broadcast to every waiting stream of this process."""

    def __init__(self, *, tick_seconds: float) -> None:
        self.generation = 0
        self.listening = False
        self._tick_seconds = tick_seconds
        self._event = asyncio.Event()

    @property
    def fallback_seconds(self) -> float:
        """How long a stream waits before polling anyway."""
        if self.listening:
            return max(FALLBACK_SECONDS, self._tick_seconds)
        return self._tick_seconds

    def wake(self) -> None:
        self.generation += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, *, since: int) -> bool:
        """Until a wake-up after generation `since` (True) or the fallback interval (False)."""
        if self.generation != since:
            return True
        event = self._event
        try:
            async with asyncio.timeout(self.fallback_seconds):
                await event.wait()
        except TimeoutError:
            return False
        return True


class JournalListener:
    """One LISTEN connection per process, kept up for as long as the app runs."""

    def __init__(
        self,
        dsn: str,
        signal: JournalSignal,
        *,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
        keepalive: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self._signal = signal
        self._first_delay, self._max_delay, self._keepalive = first_delay, max_delay, keepalive
        self._task: asyncio.Task[None] | None = None
        self.connections = 0
        self.failures = 0
        self.heard = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=APPLICATION_NAME)
        self._task.add_done_callback(self._ended)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("journal listener stopped; live pages poll from now on: %r", task.exception())
        self._signal.listening = False
        self._signal.wake()

    def _heard(self, *_: Any) -> None:
        self.heard += 1
        self._signal.wake()

    async def _run(self) -> None:
        delay = self._first_delay
        while True:
            before = self.connections
            try:
                await self._listen()
            except CONNECTION_ERRORS as error:
                self.failures += 1
                log.warning("journal listener: %s: %s", type(error).__name__, error)
            self._signal.listening = False
            self._signal.wake()
            if self.connections > before:  # it was up: the back-off starts afresh
                delay = self._first_delay
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)

    async def _listen(self) -> None:
        connection = await asyncpg.connect(
            self._dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME}
        )
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._heard)
            self.connections += 1
            self._signal.listening = True
            self._signal.wake()
            while not lost.is_set():
                try:
                    async with asyncio.timeout(self._keepalive):
                        await lost.wait()
                except TimeoutError:
                    await connection.fetchval("SELECT 1", timeout=10)
            log.warning("journal listener: connection lost; reconnecting")
        finally:
            self._signal.listening = False
            if not connection.is_closed():
                with suppress(*CONNECTION_ERRORS):
                    await connection.close(timeout=5)


def listener_dsn(database: Database) -> str:
    """The engine's URL as asyncpg's own connect() reads it."""
    url = database.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@asynccontextmanager
async def listening(
    signal: JournalSignal, database: Database
) -> AsyncIterator[JournalListener | None]:
    """The listener for the app's lifespan; none on SQLite."""
    if database.dialect != "postgresql":
        yield None
        return
    listener = JournalListener(listener_dsn(database), signal)
    listener.start()
    try:
        yield listener
    finally:
        await listener.stop()
