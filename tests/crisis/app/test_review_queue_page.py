"""The dashboard shows a validator the bulletins that wait for them, read again only when a
journaled action on a bulletin or a crisis may have moved them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from crisis import journal
from crisis.actors import SYSTEM, Actor, Role
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.session_checks import WROTE_COOKIE
from crisis.app.settings import Settings
from crisis.app.web.shared_pages import journal_head
from crisis.bulletin import workflow as bulletins
from crisis.cell import lifecycle
from tests.crisis.bulletin_support import POLICY, declare, draft, submitted
from tests.support import FrozenClock, TestUser, make_user


async def test_a_validator_sees_the_queue_and_the_author_does_not(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    author = await make_user(db, clock, "redactrice", "communicator")
    validator = await make_user(db, clock, "valideur", "validator")
    crisis_id = await declare(db, clock.now())
    writer = Actor(author.id, author.login, frozenset({Role.COMMUNICATOR}))
    async with db.transaction() as session:
        bulletin = await bulletins.create(
            session,
            actor=writer,
            crisis_id=crisis_id,
            draft=draft(),
            policy=POLICY,
            now=clock.now(),
        )
        assert bulletin.id is not None
        await bulletins.submit(
            session, actor=writer, bulletin_id=bulletin.id, policy=POLICY, now=clock.now()
        )
    seen = await client.get("/", headers=validator.headers)
    assert "Communiqués à valider (1)" in seen.text
    assert f'href="/communiques/{bulletin.id}"' in seen.text and "par redactrice" in seen.text
    assert "Communiqués à valider" not in (await client.get("/", headers=author.headers)).text


@dataclass
class Queued:
    """A validator's own browser on a fresh app, one bulletin of `crisis_id` submitted."""

    app: FastAPI
    http: httpx.AsyncClient
    validator: TestUser
    crisis_id: int

    async def dashboard(self) -> str:
        return (await self.http.get("/", headers=self.validator.headers)).text


@pytest.fixture
async def queued(settings: Settings, db: Database, clock: FrozenClock) -> AsyncIterator[Queued]:
    app = create_app(settings, clock=clock, database=db)
    await make_user(db, clock, "com", "communicator")  # the author of `submitted`, user 1
    validator = await make_user(db, clock, "valideur", "validator")
    crisis_id = await declare(db, clock.now())
    await submitted(db, clock.now(), crisis_id=crisis_id)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield Queued(app, http, validator, crisis_id)


async def test_the_queue_is_read_once_while_the_journal_stands_still(queued: Queued) -> None:
    for _ in range(3):
        assert "Communiqués à valider (1)" in await queued.dashboard()
    assert queued.app.state.review_queues.reads == 1


async def test_anothers_submission_shows_once_the_check_run_behind_the_page_is_done(
    queued: Queued, db: Database, clock: FrozenClock
) -> None:
    assert "Communiqués à valider (1)" in await queued.dashboard()
    queues = queued.app.state.review_queues
    second = await submitted(db, clock.now(), crisis_id=queued.crisis_id)
    assert "Communiqués à valider (1)" in await queued.dashboard()  # checked within `kept_for`
    await asyncio.gather(*queues.checking())
    seen = await queued.dashboard()
    assert "Communiqués à valider (2)" in seen and f'href="/communiques/{second}"' in seen
    assert queues.reads == 2
    clock.advance(seconds=queues.kept_for.total_seconds() + 0.01)
    await submitted(db, clock.now(), crisis_id=queued.crisis_id)
    assert "Communiqués à valider (3)" in await queued.dashboard()  # past it: waits for it


async def test_a_viewers_own_action_waits_for_the_check_of_the_queues(
    queued: Queued, db: Database, clock: FrozenClock
) -> None:
    assert "Communiqués à valider (1)" in await queued.dashboard()
    await submitted(db, clock.now(), crisis_id=queued.crisis_id)
    queued.http.cookies.set(WROTE_COOKIE, str(await journal_head(db)), domain="tocsin.test")
    assert "Communiqués à valider (2)" in await queued.dashboard()  # as after their own write


async def test_entries_that_move_no_queue_keep_it_and_a_crisis_closed_empties_it(
    queued: Queued, db: Database, clock: FrozenClock
) -> None:
    assert "Communiqués à valider (1)" in await queued.dashboard()
    queues = queued.app.state.review_queues
    await make_user(db, clock, "operatrice", "operator")  # journaled, as CIP calls are
    assert "Communiqués à valider (1)" in await queued.dashboard()
    await asyncio.gather(*queues.checking())
    async with db.transaction() as session:  # as while a bulletin's deliveries go out
        await journal.append(
            session, actor=SYSTEM, action="bulletin.to_call", now=clock.now(), crisis_id=1
        )
    assert "Communiqués à valider (1)" in await queued.dashboard()
    await asyncio.gather(*queues.checking())
    assert (queues.reads, queues.checks) == (1, 3)
    await make_user(db, clock, "tiers", "operator")
    pages = await asyncio.gather(*(queued.dashboard() for _ in range(3)))  # all at once
    await asyncio.gather(*queues.checking())
    assert all("Communiqués à valider (1)" in page for page in pages)
    assert (queues.reads, queues.checks) == (1, 4)  # one check served the three
    async with db.transaction() as session:
        await lifecycle.close(session, actor=SYSTEM, crisis_id=queued.crisis_id, now=clock.now())
    await queued.dashboard()
    await asyncio.gather(*queues.checking())
    assert "Aucun communiqué n'attend votre validation." in await queued.dashboard()
    assert queues.reads == 2
