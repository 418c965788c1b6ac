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

What streams send comes from one `LiveHub` per process: whatever the number of open pages, a
topic (the dashboard, a crisis, a bulletin's tracking) has its figures computed once per round,
at most one round per `min_interval` (1 s), and every subscriber of the topic gets the same small
JSON — counts and clock states, never a name or an address, so one message serves every role.
Nothing is sent when the figures did not move. The hub's task runs only while someone listens.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
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


Figures = dict[str, Any]
"""A topic's figures: JSON-ready counts and states, without personal data."""
Compute = Callable[[str], Awaitable[Figures]]
Announce = Callable[[str, Figures, Figures], list[str]]
Head = Callable[[], Awaitable[int]]


@dataclass(slots=True)
class Message:
    """What a stream sends for one change of its topic."""

    version: int
    figures: Figures
    changed: list[str]
    announce: list[str]
    head: int = 0
    """The journal's last entry, read after the figures (0: unknown): a page refreshed for
    this message must not predate it (`shared_pages.announced_floor`)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "figures": self.figures,
            "changed": self.changed,
            "announce": self.announce,
            "head": self.head,
        }


@dataclass(slots=True)
class _Topic:
    subscribers: int = 0
    message: Message | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event)


class Subscription:
    """One stream's view of its topic: the messages it has not sent yet, the latest only."""

    def __init__(self, topic: _Topic) -> None:
        self._topic = topic
        self._version = 0

    @property
    def pending(self) -> bool:
        """A message not sent yet."""
        message = self._topic.message
        return message is not None and message.version > self._version

    async def next(self) -> Message:
        while True:
            message, event = self._topic.message, self._topic.event
            if message is not None and message.version > self._version:
                self._version = message.version
                return message
            await event.wait()


class LiveHub:
    """Every live stream of the process, fed by one computation per topic and round."""

    def __init__(
        self,
        signal: JournalSignal,
        compute: Compute,
        *,
        announce: Announce | None = None,
        head: Head | None = None,
        min_interval: float = 1.0,
        poll_seconds: float = 2.0,
    ) -> None:
        self._signal, self._compute = signal, compute
        self._announce = announce or (lambda _topic, _old, _new: [])
        self._head = head
        self.min_interval, self.poll_seconds = min_interval, poll_seconds
        self._topics: dict[str, _Topic] = {}
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0
        self.computations = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def version(self, topic: str) -> int | None:
        """The version of a topic's figures, if someone in this process listens to it."""
        state = self._topics.get(topic)
        return state.message.version if state and state.message else None

    def subscribers(self, topic: str) -> int:
        state = self._topics.get(topic)
        return state.subscribers if state else 0

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[Subscription]:
        state = self._topics.setdefault(topic, _Topic())
        state.subscribers += 1
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="tocsin-live-hub")
        else:
            self._signal.wake()  # a new topic is computed at the next round, not a poll later
        try:
            yield Subscription(state)
        finally:
            state.subscribers -= 1
            if not state.subscribers:
                del self._topics[topic]
            if not self._topics:
                await self.stop()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def refresh(self) -> None:
        """One round: each topic listened to is computed once; moved figures are published,
        with the journal's last entry read after them all."""
        self.rounds += 1
        moved: list[tuple[_Topic, Figures, list[str], list[str]]] = []
        for name, state in list(self._topics.items()):
            try:
                figures = await self._compute(name)
            except Exception:  # a failing topic must not stop the others' updates
                log.exception("live figures of %s failed", name)
                continue
            self.computations += 1
            old = state.message
            if old is not None and old.figures == figures:
                continue
            changed = _changed_keys(old.figures if old else {}, figures)
            announce = self._announce(name, old.figures, figures) if old else []
            moved.append((state, figures, changed, announce))
        head = await self._read_head() if moved else 0
        for state, figures, changed, announce in moved:
            version = (state.message.version if state.message else 0) + 1
            state.message = Message(version, figures, changed, announce, head)
            event, state.event = state.event, asyncio.Event()
            event.set()

    async def _read_head(self) -> int:
        if self._head is None:
            return 0
        try:
            return await self._head()
        except Exception:  # the pages then ask for the journal's last entry, as before
            log.exception("live figures: journal head unread")
            return 0

    async def _run(self) -> None:
        while self._topics:
            seen = self._signal.generation
            await self.refresh()
            await asyncio.sleep(self.min_interval)  # the bound: one round a second at most
            if self._signal.generation == seen:
                with suppress(TimeoutError):
                    async with asyncio.timeout(self._wait_seconds()):
                        await self._signal.wait(since=seen)

    def _wait_seconds(self) -> float:
        """Delivery outcomes are not journal entries: a tracked bulletin is polled."""
        if any(name.startswith("communique:") for name in self._topics):
            return min(self.poll_seconds, self._signal.fallback_seconds)
        return self._signal.fallback_seconds


def _changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return sorted(key for key in new.keys() | old.keys() if old.get(key) != new.get(key))
