"""The dashboard shows a validator the bulletins that wait for them."""

from __future__ import annotations

import httpx

from crisis.actors import Actor, Role
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.bulletin import workflow as bulletins
from tests.crisis.bulletin_support import POLICY, declare, draft, submitted
from tests.support import FrozenClock, make_user


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


async def test_the_queue_is_read_once_while_the_journal_stands_still_and_a_submission_shows_at_once(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    app = create_app(settings, clock=clock, database=db)
    await make_user(db, clock, "com", "communicator")  # the author of `submitted`, user 1
    validator = await make_user(db, clock, "valideur", "validator")
    crisis_id = await declare(db, clock.now())
    await submitted(db, clock.now(), crisis_id=crisis_id)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        for _ in range(3):
            seen = await http.get("/", headers=validator.headers)
            assert "Communiqués à valider (1)" in seen.text
        assert app.state.review_queues.reads == 1
        second = await submitted(db, clock.now(), crisis_id=crisis_id)
        seen = await http.get("/", headers=validator.headers)
        assert "Communiqués à valider (2)" in seen.text
        assert f'href="/communiques/{second}"' in seen.text
        assert app.state.review_queues.reads == 2
