"""A sender's own channels: the account's e-mail and the staff contact holding it, never a
media or official's address nor a public account (issue 15, item 4)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from contacts.records import ContactRecord
from crisis import accounts
from crisis.actors import SYSTEM, Actor
from crisis.app.db import Database
from crisis.bulletin import self_test
from crisis.bulletin.self_test import OwnChannel
from crisis.dispatch.outbox import Delivery
from crisis.errors import Forbidden, InvalidInput
from crisis.vocabulary import CrisisMode
from tests.crisis.bulletin_support import (
    POLICY,
    created,
    declare,
    load_directory,
    person,
)
from tests.support import FrozenClock, make_user

AGENT = "agent@prefecture.test"
DIRECTORY: list[ContactRecord] = [
    person("agent", "staff", [("email", AGENT), ("sms", "+33639980042"), ("telegram", "123456")]),
    person("redaction", "media", [("email", "redaction@journal.test")]),
    person(
        "cumul",
        "staff",
        [("email", "cumul@prefecture.test"), ("sms", "+33639980001"), ("telegram", "-1001234567")],
    ),
    person("maire", "officials", [("sms", "+33639980001")]),
]


async def _sender(db: Database, clock: FrozenClock, email: str | None) -> Actor:
    """A communicator whose account e-mail the administrator set to `email`."""
    made = await make_user(db, clock, "com", "communicator", "validator")
    async with db.transaction() as session:
        user = await accounts.user_by_login(session, login="com")
        assert user is not None
        await accounts.set_email(session, actor=SYSTEM, user=user, email=email, now=clock.now())
        return Actor(made.id, "com", user.actor().roles)


async def _own(db: Database, actor: Actor) -> list[OwnChannel]:
    async with db.read() as session:
        return await self_test.own_channels(session, actor=actor, policy=POLICY)


async def test_the_staff_contact_holding_the_account_email_lends_its_other_channels(
    db: Database, clock: FrozenClock
) -> None:
    await load_directory(db, clock.now(), DIRECTORY)
    actor = await _sender(db, clock, AGENT)
    assert [(c.channel, c.address, c.source) for c in await _own(db, actor)] == [
        ("email", AGENT, "account"),
        ("sms", "+33639980042", "directory"),
        ("telegram", "123456", "directory"),
    ]


async def test_an_account_email_that_a_journalist_holds_is_never_a_test_target(
    db: Database, clock: FrozenClock
) -> None:
    await load_directory(db, clock.now(), DIRECTORY)
    actor = await _sender(db, clock, "redaction@journal.test")
    assert await _own(db, actor) == []
    crisis_id = await declare(db, clock.now())
    bulletin = await created(db, clock.now(), crisis_id=crisis_id)
    assert bulletin.id is not None
    async with db.transaction() as session:
        with pytest.raises(InvalidInput) as none:
            await self_test.send_test(
                session,
                actor=actor,
                bulletin_id=bulletin.id,
                channel="email",
                address=None,
                policy=POLICY,
                now=clock.now(),
            )
        with pytest.raises(Forbidden) as refused:
            await self_test.send_test(
                session,
                actor=actor,
                bulletin_id=bulletin.id,
                channel="email",
                address="redaction@journal.test",
                policy=POLICY,
                now=clock.now(),
            )
    assert (none.value.code, refused.value.code) == ("no_own_address", "foreign_test_address")


async def test_a_staff_number_an_official_also_holds_and_a_public_account_are_left_out(
    db: Database, clock: FrozenClock
) -> None:
    await load_directory(db, clock.now(), DIRECTORY)
    actor = await _sender(db, clock, "cumul@prefecture.test")
    public_channel = replace(POLICY, public_accounts={"telegram": "-1001234567"})
    async with db.read() as session:
        own = await self_test.own_channels(session, actor=actor, policy=public_channel)
    assert [(c.channel, c.address) for c in own] == [("email", "cumul@prefecture.test")]


async def test_without_an_account_email_a_sender_has_no_own_channel(
    db: Database, clock: FrozenClock
) -> None:
    await load_directory(db, clock.now(), DIRECTORY)
    actor = await _sender(db, clock, None)
    assert await _own(db, actor) == []


async def test_only_an_administrator_sets_an_account_email(
    db: Database, clock: FrozenClock
) -> None:
    actor = await _sender(db, clock, AGENT)
    async with db.transaction() as session:
        user = await accounts.user_by_login(session, login="com")
        assert user is not None
        with pytest.raises(Forbidden):
            await accounts.set_email(
                session, actor=actor, user=user, email="moi@ailleurs.test", now=clock.now()
            )


async def test_an_exercise_test_rendering_carries_both_marks_in_subject_text_and_html(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now(), mode=CrisisMode.EXERCISE)
    bulletin = await created(db, clock.now(), crisis_id=crisis_id)
    marked = self_test.marked_rendering(bulletin, channel="email", base_url="https://t.test")
    mark = "EXERCICE EXERCICE EXERCICE — TEST — non validé"
    assert marked.subject.startswith(mark + " — ")
    assert marked.text.startswith(mark) and marked.text.count("EXERCICE EXERCICE") == 1
    assert marked.html is not None and f"<strong>{mark}" in marked.html


async def test_a_test_to_oneself_is_a_test_delivery_not_a_publication(
    db: Database, clock: FrozenClock
) -> None:
    actor = await _sender(db, clock, AGENT)
    crisis_id = await declare(db, clock.now())
    bulletin = await created(db, clock.now(), crisis_id=crisis_id)
    assert bulletin.id is not None
    async with db.transaction() as session:
        sent = await self_test.send_test(
            session,
            actor=actor,
            bulletin_id=bulletin.id,
            channel="email",
            address=" agent@Prefecture.TEST ",
            policy=POLICY,
            now=clock.now(),
        )
    async with db.read() as session:
        rows = (await session.exec(select(Delivery))).all()
    assert (sent.deliveries, sent.address) == (1, AGENT)
    assert [(d.purpose, d.address, d.status) for d in rows] == [("test", AGENT, "pending")]
