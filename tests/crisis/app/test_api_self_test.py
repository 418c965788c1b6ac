"""« Envoyer un test » through the API: only to the sender's own channels, marked, journaled
(issue 15, item 4). The sends go through the dispatcher to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select

from channels.config import ChannelsConfig
from channels.sandbox import Sandbox
from crisis import journal
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.dispatch.outbox import Delivery
from crisis.users import User
from tests.crisis.bulletin_support import ABBEVILLE, BODY, TITLE, load_directory
from tests.support import FrozenClock, TestUser, make_user

OWN = "com@prefecture.test"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def _draft(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, *, mode: str = "real"
) -> tuple[int, TestUser]:
    """A draft (never submitted) by `com`, whose account e-mail an administrator set."""
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    async with db.transaction() as session:
        user = await session.get(User, com.id)
        assert user is not None
        user.email = OWN
        session.add(user)
    await load_directory(db, clock.now())
    crisis = await client.post(
        "/api/v1/crises",
        json={"title": "Crue", "kind": "crue", "mode": mode, "communes": [ABBEVILLE]},
        headers=prefect.headers,
    )
    created = await client.post(
        f"/api/v1/crises/{crisis.json()['id']}/bulletins",
        json={"title": TITLE, "body": BODY, "audiences": ["officials"], "channels": ["email"]},
        headers=com.headers,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], com


async def _tests_written(db: Database) -> list[Delivery]:
    async with db.read() as session:
        return list((await session.exec(select(Delivery))).all())


async def _send(sandbox: Sandbox, db: Database, clock: FrozenClock) -> None:
    smtp = sandbox.config().smtp
    assert smtp is not None
    worker = dispatcher_from_config(
        db=db,
        channels=ChannelsConfig(smtp=smtp),
        exercise_channels=ChannelsConfig(smtp=smtp),
        rng=random.Random(1),
    )
    await worker.run(clock.now())
    await worker.aclose()


@pytest.mark.parametrize("address", ["redaction@journal.test", "pirate@ailleurs.test"])
async def test_a_test_send_to_a_journalist_or_any_foreign_address_is_refused_and_nothing_sent(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    sandbox: Sandbox,
    address: str,
) -> None:
    bulletin_id, com = await _draft(client, db, clock)
    answer = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/test",
        json={"channel": "email", "address": address},
        headers=com.headers,
    )
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert error["code"] == "foreign_test_address"
    assert "vos propres canaux" in error["message"] and address not in error["message"]
    assert await _tests_written(db) == []
    await _send(sandbox, db, clock)
    assert sandbox.smtp.state.received == []


async def test_an_exercise_test_reaches_only_the_sender_marked_test_not_validated_and_exercise(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    bulletin_id, com = await _draft(client, db, clock, mode="exercise")
    answer = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/test", json={"channel": "email"}, headers=com.headers
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["address"] == OWN
    await _send(sandbox, db, clock)
    [mail] = [m for m in sandbox.smtp.state.received if "TEST" in m.subject]
    assert mail.recipient == OWN
    for text in (mail.subject, mail.text.splitlines()[0] + mail.text.splitlines()[2]):
        assert "TEST — non validé" in text and "EXERCICE" in text, text
    assert TITLE in mail.subject


async def test_a_real_test_is_marked_not_validated_and_journaled_with_the_address_masked(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    bulletin_id, com = await _draft(client, db, clock)
    answer = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/test",
        json={"channel": "email", "address": " com@Prefecture.TEST "},
        headers=com.headers,
    )
    assert answer.status_code == 201, answer.text
    await _send(sandbox, db, clock)
    [mail] = sandbox.smtp.state.received
    assert mail.subject.startswith("TEST — non validé — ") and "EXERCICE" not in mail.subject
    assert mail.text.startswith("TEST — non validé")
    async with db.read() as session:
        entries = await journal.for_crisis(session, crisis_id=1)
    [sent] = [json.loads(e.payload) for e in entries if e.action == "bulletin.test_sent"]
    assert (sent["channel"], sent["address"], sent["source"]) == (
        "email",
        "c…@prefecture.test",
        "account",
    )
    assert OWN not in json.dumps(sent)
