"""Validators are told when a bulletin awaits them; its author hears the verdict."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import col, select

from crisis import accounts, journal
from crisis.actors import SYSTEM, Actor
from crisis.app.db import Database
from crisis.bulletin import review_queue
from crisis.bulletin import workflow as bulletins
from crisis.dispatch.outbox import Delivery
from crisis.dispatch.rows import OutboxMessage
from crisis.vocabulary import CrisisMode
from tests.crisis.bulletin_support import POLICY, declare, draft
from tests.crisis.lifecycle_support import add_on_call, roster
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio


async def _user(db: Database, clock: FrozenClock, login: str, *roles: str) -> Actor:
    async with db.transaction() as session:
        user, _ = await accounts.create_user(
            session, actor=SYSTEM, login=login, roles=list(roles), now=clock.now()
        )
        await accounts.set_email(
            session, actor=SYSTEM, user=user, email=f"{login}@somme.gouv.fr", now=clock.now()
        )
    return user.actor()


async def _submitted(db: Database, clock: FrozenClock, author: Actor, crisis_id: int) -> int:
    async with db.transaction() as session:
        bulletin = await bulletins.create(
            session,
            actor=author,
            crisis_id=crisis_id,
            draft=draft(),
            policy=POLICY,
            now=clock.now(),
        )
        assert bulletin.id is not None
        await bulletins.submit(
            session, actor=author, bulletin_id=bulletin.id, policy=POLICY, now=clock.now()
        )
    return bulletin.id


async def _notices(db: Database, crisis_id: int) -> list[Delivery]:
    async with db.read() as session:
        query = select(Delivery).where(
            Delivery.crisis_id == crisis_id, Delivery.purpose == "review"
        )
        return list((await session.exec(query.order_by(col(Delivery.id)))).all())


async def _journaled(db: Database, crisis_id: int, action: str) -> list[dict[str, Any]]:
    async with db.read() as session:
        entries = await journal.for_crisis(session, crisis_id=crisis_id)
    return [json.loads(e.payload) for e in entries if e.action == action]


async def test_a_submitted_bulletin_pages_the_validators_on_duty_through_the_outbox(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())
    author = await _user(db, clock, "redactrice", "communicator")
    crisis_id = await declare(db, clock.now())
    await _submitted(db, clock, author, crisis_id)
    notices = await _notices(db, crisis_id)
    assert [(d.recipient_name, d.audience, d.channel, d.status) for d in notices] == [
        ("Valérie Val1", "staff", "email", "pending")  # level 1 only, never sent directly
    ]
    assert await _journaled(db, crisis_id, "bulletin.reviewers_notified") == [
        {"bulletin_id": 1, "title": draft().title, "recipients": ["Valérie Val1"]}
    ]


async def test_in_an_exercise_only_exercise_contacts_are_paged_with_the_exercise_audience(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())  # real staff: never reached by an exercise
        await add_on_call(
            session, name="Paul JOUEUR", role="validator", level=1, now=clock.now(),
            audience="exercise",
        )  # fmt: skip
    author = await _user(db, clock, "redactrice", "communicator")
    crisis_id = await declare(db, clock.now(), mode=CrisisMode.EXERCISE)
    await _submitted(db, clock, author, crisis_id)
    notices = await _notices(db, crisis_id)
    assert [(d.recipient_name, d.audience, d.played_audience) for d in notices] == [
        ("Paul JOUEUR", "exercise", "staff")
    ]


async def test_the_author_hears_of_the_approval_and_of_the_rejection(
    db: Database, clock: FrozenClock
) -> None:
    author = await _user(db, clock, "redactrice", "communicator")
    validator = await _user(db, clock, "valideur", "validator")
    crisis_id = await declare(db, clock.now())
    first = await _submitted(db, clock, author, crisis_id)
    second = await _submitted(db, clock, author, crisis_id)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=validator, bulletin_id=first, now=clock.now())
        await bulletins.reject(
            session, actor=validator, bulletin_id=second, reason="Heure fausse", now=clock.now()
        )
    notices = await _notices(db, crisis_id)
    assert [(d.address, d.audience) for d in notices] == [
        ("redactrice@somme.gouv.fr", "staff"),
        ("redactrice@somme.gouv.fr", "staff"),
    ]
    told = await _journaled(db, crisis_id, "bulletin.author_notified")
    assert [t["recipients"] for t in told] == [["redactrice"], ["redactrice"]]


async def test_an_exercise_author_is_not_written_to_at_their_own_address(
    db: Database, clock: FrozenClock
) -> None:
    author = await _user(db, clock, "redactrice", "communicator")
    validator = await _user(db, clock, "valideur", "validator")
    crisis_id = await declare(db, clock.now(), mode=CrisisMode.EXERCISE)
    bulletin_id = await _submitted(db, clock, author, crisis_id)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=validator, bulletin_id=bulletin_id, now=clock.now())
    assert await _notices(db, crisis_id) == []
    told = await _journaled(db, crisis_id, "bulletin.author_notified")
    assert [t["recipients"] for t in told] == [[]]


async def test_the_queue_shows_a_reviewer_what_they_may_validate_and_nothing_they_wrote(
    db: Database, clock: FrozenClock
) -> None:
    author = await _user(db, clock, "redactrice", "communicator", "validator")
    validator = await _user(db, clock, "valideur", "validator")
    other = await _user(db, clock, "redacteur", "communicator")
    crisis_id = await declare(db, clock.now())
    bulletin_id = await _submitted(db, clock, author, crisis_id)
    async with db.read() as session:
        assert [b.id for b in await review_queue.awaiting(session, actor=validator)] == [
            bulletin_id
        ]
        assert await review_queue.awaiting(session, actor=author) == []
        assert await review_queue.awaiting(session, actor=other) == []


async def test_an_edit_after_submission_tells_the_validators_on_duty_again_a_draft_edit_does_not(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())
    author = await _user(db, clock, "redactrice", "communicator")
    validator = await _user(db, clock, "valideur", "validator")
    crisis_id = await declare(db, clock.now())
    submitted = await _submitted(db, clock, author, crisis_id)
    async with db.transaction() as session:
        await bulletins.approve(session, actor=validator, bulletin_id=submitted, now=clock.now())
        changed = draft(title="Crue de la Somme : la situation s'aggrave")
        await bulletins.edit(
            session,
            actor=author,
            bulletin_id=submitted,
            draft=changed,
            policy=POLICY,
            now=clock.now(),
        )
        still_draft = await bulletins.create(
            session,
            actor=author,
            crisis_id=crisis_id,
            draft=draft(),
            policy=POLICY,
            now=clock.now(),
        )
        assert still_draft.id is not None
        await bulletins.edit(
            session,
            actor=author,
            bulletin_id=still_draft.id,
            draft=changed,
            policy=POLICY,
            now=clock.now(),
        )
    to_validators = [d for d in await _notices(db, crisis_id) if d.recipient_name == "Valérie Val1"]
    assert len(to_validators) == 2  # the submission, then the edit sending it back to review
    async with db.read() as session:
        sent = await session.get(OutboxMessage, to_validators[1].message_id)
    assert sent is not None
    assert "modifié par redactrice après sa soumission" in sent.text
    assert "attend de nouveau votre validation" in sent.text
    told = await _journaled(db, crisis_id, "bulletin.reviewers_notified")
    assert [t["title"] for t in told] == [draft().title, changed.title]
