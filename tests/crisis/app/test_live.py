"""The live stream `/flux`: woken by PostgreSQL's NOTIFY from another instance, polling on SQLite.

Every wait here is bounded and ends on an event (a chunk of the stream, a state change of the
listener); none sleeps for a guessed duration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from starlette.types import Message

from crisis import journal
from crisis.actors import SYSTEM
from crisis.app import live
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.cell import crises
from crisis.vocabulary import CrisisMode
from tests.conftest import ON_POSTGRESQL
from tests.crisis.bulletin_support import ABBEVILLE
from tests.support import FrozenClock, make_user

postgres_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="LISTEN/NOTIFY is PostgreSQL's")
BOUND = 5.0  # seconds: far below the 60 s fallback these tests set


class Stream:
    """`GET /flux` straight through the ASGI app, each chunk read as soon as it is sent."""

    def __init__(self, app: FastAPI, token: str, query: str = "") -> None:
        self.app, self.token, self.query = app, token, query
        self.chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self.status = 0
        self._gone = asyncio.Event()

    async def _receive(self) -> Message:
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and message.get("body"):
            await self.chunks.put(message["body"])

    async def next(self) -> str:
        return (await asyncio.wait_for(self.chunks.get(), BOUND)).decode()

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Stream]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/flux",
            "raw_path": b"/flux",
            "query_string": self.query.encode(),
            "root_path": "",
            "headers": [
                (b"host", b"tocsin.test"),
                (b"authorization", f"Bearer {self.token}".encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("tocsin.test", 80),
        }
        task = asyncio.create_task(self.app(scope, self._receive, self._send))
        try:
            yield self
        finally:
            self._gone.set()
            await asyncio.wait_for(task, BOUND)


async def _until(signal: live.JournalSignal, ready: Callable[[], bool]) -> None:
    """Wait, woken by the signal, until `ready()` holds (at most BOUND seconds)."""
    async with asyncio.timeout(BOUND):
        while not ready():
            await signal.wait(since=signal.generation)


async def _write_entry(
    database_url: str, action: str = "checklist.ticked", crisis_id: int | None = None
) -> None:
    """A journal entry committed by another instance: its own engine, its own connection."""
    other = Database.from_url(database_url)
    try:
        async with other.transaction() as session:
            await journal.append(
                session,
                actor=SYSTEM,
                action=action,
                now=FrozenClock().now(),
                crisis_id=crisis_id,
                payload={},
            )
    finally:
        await other.dispose()


async def _crisis(db: Database) -> int:
    async with db.transaction() as session:
        crisis = await crises.declare(
            session,
            actor=SYSTEM,
            title="Crue",
            kind="crue",
            mode=CrisisMode.REAL,
            communes=[ABBEVILLE],
            now=FrozenClock().now(),
        )
    assert crisis.id is not None
    return crisis.id


async def _baseline_then_change(stream: Stream, database_url: str, crisis_id: int) -> None:
    """The topic's first figures, then an entry of its crisis written elsewhere: a change."""
    assert (await stream.next()).startswith(": prêt")
    assert (await stream.next()).startswith("event: change")  # the figures to start from
    await _write_entry(database_url, crisis_id=crisis_id)
    change = await stream.next()
    assert change.startswith("event: change") and '"changed": ["journal"]' in change


def _slow_polling(settings: Settings) -> Settings:
    return settings.model_copy(update={"tick_seconds": 60.0})


@postgres_only
async def test_an_entry_committed_by_another_instance_wakes_a_waiting_stream_at_once(
    settings: Settings, db: Database, clock: FrozenClock, database_url: str
) -> None:
    user = await make_user(db, clock, "veilleur", "operator")
    app = create_app(_slow_polling(settings), clock=clock, database=db)
    signal: live.JournalSignal = app.state.live
    async with app.router.lifespan_context(app):
        await _until(signal, lambda: signal.listening)
        assert signal.fallback_seconds == 60.0
        crisis_id = await _crisis(db)
        async with Stream(app, user.token, f"evenement={crisis_id}").open() as stream:
            # within BOUND seconds, not the 60 s of the poll
            await _baseline_then_change(stream, database_url, crisis_id)
            assert stream.status == 200


@postgres_only
async def test_the_listener_survives_its_connection_being_terminated(
    db: Database, database_url: str
) -> None:
    signal = live.JournalSignal(tick_seconds=60.0)
    async with live.listening(signal, db) as listener:
        assert listener is not None
        await _until(signal, lambda: listener.connections == 1)
        async with db.engine.connect() as conn:
            killed = await conn.scalar(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": live.APPLICATION_NAME},
            )
        assert killed == 1
        await _until(signal, lambda: listener.connections == 2 and signal.listening)
        heard = listener.heard
        await _write_entry(database_url)
        await _until(signal, lambda: listener.heard > heard)


async def test_a_listener_that_cannot_connect_keeps_retrying_and_never_raises() -> None:
    signal = live.JournalSignal(tick_seconds=1.0)
    listener = live.JournalListener(
        "postgresql://tocsin@127.0.0.1:1/nowhere", signal, first_delay=0.01, max_delay=0.05
    )
    listener.start()
    try:
        await _until(signal, lambda: listener.failures >= 3)
        assert not signal.listening and signal.fallback_seconds == 1.0
    finally:
        await listener.stop()


async def test_without_a_listener_the_stream_still_sends_a_change_by_polling(
    settings: Settings, db: Database, clock: FrozenClock, database_url: str
) -> None:
    user = await make_user(db, clock, "veilleur", "operator")
    app = create_app(settings.model_copy(update={"tick_seconds": 0.05}), clock=clock, database=db)
    assert not app.state.live.listening  # no lifespan here: nothing listens, on any database
    crisis_id = await _crisis(db)
    async with Stream(app, user.token, f"evenement={crisis_id}").open() as stream:
        await _baseline_then_change(stream, database_url, crisis_id)


async def test_the_stream_refuses_a_client_without_session_or_token(
    client: httpx.AsyncClient,
) -> None:
    anonymous = await client.get("/flux")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/connexion"
    forged = await client.get("/flux", headers={"Authorization": "Bearer faux"})
    assert forged.status_code in (303, 401) and "event:" not in forged.text


async def test_a_write_committed_in_this_process_wakes_its_live_streams_and_a_rollback_does_not(
    db: Database,
) -> None:
    signal = live.JournalSignal(tick_seconds=60)
    db.after_commit(signal.wake)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(sa.text("SELECT 1"))
            raise RuntimeError("rolled back")
    assert signal.generation == 0
    async with db.transaction() as session:
        await session.execute(sa.text("SELECT 1"))
    assert signal.generation == 1
    async with db.brief_transaction() as session:
        await session.execute(sa.text("SELECT 1"))
    assert signal.generation == 2
