"""A web session's check kept a second for the requests that only read (issue 22: pages while
everything runs at once): fewer reads, and never a revocation, a deactivation, a role change
or one's own action missed by this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import cast

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from crisis import accounts, sessions
from crisis.actors import SYSTEM
from crisis.app.auth import session_policy
from crisis.app.db import Database
from crisis.app.session_checks import ANNOUNCED_HEADER, LIVE_HEADER, WROTE_COOKIE, SessionChecks
from crisis.app.settings import Settings
from tests.crisis.app.web_session import log_in, page_request
from tests.support import FrozenClock, TestUser, make_user


@dataclass(frozen=True)
class LoggedIn:
    user: TestUser
    csrf: str


@contextmanager
def session_reads() -> Iterator[list[str]]:
    """The statements that check a web session (`sessions.viewer`), on every engine, while the
    block runs."""
    seen: list[str] = []

    def heard(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("SELECT") and "web_session.digest =" in statement:
            seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", heard)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", heard)


@pytest.fixture
async def prefect(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> AsyncIterator[LoggedIn]:
    """A prefect and administrator logged in with `client`, whose dashboard was just checked
    (and another administrator, so that theirs may be taken away)."""
    await make_user(db, clock, "admin", "admin")
    user = await make_user(db, clock, "prefet", "prefect", "admin")
    yield LoggedIn(user, await log_in(client, user.login, user.password))


async def test_a_page_asked_again_within_a_second_reuses_the_sessions_check(
    client: httpx.AsyncClient, prefect: LoggedIn, clock: FrozenClock
) -> None:
    with session_reads() as reads:
        clock.advance(seconds=0.5)
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/mon-compte")).status_code == 200
    assert reads == []
    with session_reads() as reads:
        clock.advance(seconds=0.6)
        assert (await client.get("/")).status_code == 200
    assert len(reads) == 1


async def test_a_check_past_half_its_second_is_read_again_behind_the_page_that_reuses_it(
    client: httpx.AsyncClient, prefect: LoggedIn, web_app: FastAPI, clock: FrozenClock
) -> None:
    checks = web_app.state.session_checks
    clock.advance(seconds=0.7)
    with session_reads() as reads:
        assert (await client.get("/")).status_code == 200  # the check kept, read again behind
        await asyncio.gather(*checks.renewals())
    assert len(reads) == 1
    clock.advance(seconds=0.4)  # 1.1 s after the first check, 0.4 s after the one read behind
    with session_reads() as reads:
        assert (await client.get("/")).status_code == 200
    assert reads == []


async def test_a_live_refresh_and_a_write_always_read_the_session_afresh(
    client: httpx.AsyncClient, prefect: LoggedIn
) -> None:
    with session_reads() as reads:
        await client.get("/", headers={LIVE_HEADER: "1"})
        await client.post("/mon-compte/jetons", data={"csrf_token": prefect.csrf})
    assert len(reads) == 2


async def test_a_live_refresh_naming_an_entry_this_process_read_reuses_the_sessions_check(
    client: httpx.AsyncClient, prefect: LoggedIn, web_app: FastAPI
) -> None:
    known = web_app.state.session_checks.latest_head
    with session_reads() as reads:
        await client.get("/", headers={LIVE_HEADER: "1", ANNOUNCED_HEADER: str(known)})
    assert reads == []
    with session_reads() as reads:  # an entry this process has not read: checked afresh
        await client.get("/", headers={LIVE_HEADER: "1", ANNOUNCED_HEADER: str(known + 1)})
    assert len(reads) == 1


async def test_a_browser_that_wrote_since_the_check_gets_its_session_read_afresh(
    client: httpx.AsyncClient, prefect: LoggedIn
) -> None:
    with session_reads() as reads:
        client.cookies.set(WROTE_COOKIE, "999999", domain="tocsin.test")
        await client.get("/")
    assert len(reads) == 1


async def test_a_session_revoked_in_this_process_opens_no_page_in_the_same_second(
    client: httpx.AsyncClient, prefect: LoggedIn, db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:  # as « Mon compte » or a password change does
        await sessions.revoke_all(session, user_id=prefect.user.id, now=clock.now())
    answer = await client.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/connexion"


async def test_a_role_taken_away_in_this_process_shows_on_the_next_page(
    client: httpx.AsyncClient, prefect: LoggedIn, db: Database, clock: FrozenClock
) -> None:
    assert (await client.get("/utilisateurs")).status_code == 200
    async with db.transaction() as session:
        await accounts.set_roles(
            session, actor=SYSTEM, login="prefet", roles=["prefect"], now=clock.now()
        )
    assert (await client.get("/utilisateurs")).status_code == 403


async def test_a_check_read_before_a_deactivation_commits_is_not_kept_after_it(
    client: httpx.AsyncClient, prefect: LoggedIn, db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await accounts.deactivate(session, actor=SYSTEM, login="prefet", now=clock.now())
        before_commit = await client.get("/")
    assert before_commit.status_code == 200  # the deactivation is not committed yet
    assert (await client.get("/")).status_code == 303


async def test_another_instances_deactivation_reaches_a_page_within_a_second(
    client: httpx.AsyncClient, prefect: LoggedIn, database_url: str, clock: FrozenClock
) -> None:
    other_instance = Database.from_url(database_url)
    try:
        async with other_instance.transaction() as session:
            await accounts.deactivate(session, actor=SYSTEM, login="prefet", now=clock.now())
    finally:
        await other_instance.dispose()
    assert (await client.get("/")).status_code == 200  # the check of the past second
    write = await client.post("/mon-compte/jetons", data={"csrf_token": prefect.csrf})
    assert write.headers.get("location") == "/connexion"  # a write checks afresh
    clock.advance(seconds=1.01)
    assert (await client.get("/")).headers.get("location") == "/connexion"


async def test_a_session_touched_does_not_forget_the_other_sessions_checks(
    client: httpx.AsyncClient,
    second_client: httpx.AsyncClient,
    prefect: LoggedIn,
    db: Database,
    clock: FrozenClock,
) -> None:
    other = await make_user(db, clock, "cabinet", "communicator")
    clock.advance(seconds=59.5)
    await log_in(second_client, other.login, other.password)
    clock.advance(seconds=0.6)  # the prefect's check is a minute old: this page touches it
    assert (await client.get("/")).status_code == 200
    with session_reads() as reads:
        assert (await second_client.get("/")).status_code == 200
    assert reads == []


class HeldReads:
    """`db`'s reads of rows, each one after the first held until `release`."""

    def __init__(self, db: Database) -> None:
        self.db, self.reads = db, 0
        self.started, self.release = asyncio.Event(), asyncio.Event()

    @asynccontextmanager
    async def read_rows(self) -> AsyncIterator[AsyncConnection]:
        self.reads += 1
        if self.reads > 1:
            self.started.set()
            await self.release.wait()
        async with self.db.read_rows() as connection:
            yield connection


async def test_past_its_second_a_page_waits_for_the_check_read_again_under_way_not_a_second(
    web_app: FastAPI, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    async with db.transaction() as session:
        _row, token = await sessions.open_session(
            session, user_id=user.id, now=clock.now(), client=None, user_agent="test"
        )
    checks: SessionChecks = web_app.state.session_checks
    held, policy = HeldReads(db), session_policy(settings)
    reads = cast(Database, held)  # only its `read_rows` is used

    async def viewer() -> sessions.Viewer | None:
        return await checks.viewer(page_request(), reads, token, now=clock.now(), policy=policy)

    assert await viewer() is not None  # read, kept
    clock.advance(seconds=0.7)
    assert await viewer() is not None  # kept, read again behind (held)
    await held.started.wait()
    clock.advance(seconds=0.6)  # the kept check 1.3 s old, the one under way begun 0.6 s ago
    waiting = asyncio.create_task(viewer())
    await asyncio.sleep(0)
    assert not waiting.done()
    held.release.set()
    seen = await waiting
    assert seen is not None and seen.actor.user_id == user.id
    assert held.reads == 2
