"""The page's buttons and the services agree on who may do what with a bulletin."""

from __future__ import annotations

import pytest

from crisis import accounts
from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.bulletin import self_test
from crisis.bulletin import workflow as bulletins
from crisis.errors import Forbidden, InvalidInput
from tests.crisis.bulletin_support import (
    AUTHOR_AND_VALIDATOR,
    COMMUNICATOR,
    POLICY,
    VALIDATOR,
    declare,
    submitted,
)
from tests.support import FrozenClock, make_user


async def _submitted_by_a_validating_author(db: Database, clock: FrozenClock) -> int:
    """Written and submitted by user 1, who also holds the validator role."""
    return await submitted(db, clock.now(), crisis_id=await declare(db, clock.now()))


async def test_an_author_who_validates_is_offered_no_review_and_refused_one(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted_by_a_validating_author(db, clock)
    async with db.transaction() as session:
        seen = {
            actor.login: bulletins.permissions(
                actor, await bulletins.get(session, bulletin_id=bulletin_id)
            )
            for actor in (AUTHOR_AND_VALIDATOR, VALIDATOR)
        }
        assert [(p.own, p.review) for p in seen.values()] == [(True, False), (False, True)]
        with pytest.raises(Forbidden):
            await bulletins.approve(
                session, actor=AUTHOR_AND_VALIDATOR, bulletin_id=bulletin_id, now=clock.now()
            )
        approved = await bulletins.approve(
            session, actor=VALIDATOR, bulletin_id=bulletin_id, now=clock.now()
        )
        assert bulletins.permissions(COMMUNICATOR, approved).publish


async def test_a_test_address_is_checked_by_the_service_and_must_be_the_senders_own(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id = await _submitted_by_a_validating_author(db, clock)
    made = await make_user(db, clock, "com2", "communicator")
    async with db.transaction() as session:
        user = await accounts.user_by_login(session, login="com2")
        assert user is not None
        await accounts.set_email(
            session, actor=SYSTEM, user=user, email="moi@prefecture.test", now=clock.now()
        )
        actor = user.actor()
    assert actor.user_id == made.id
    outcomes: list[object] = []
    for address in ("pas une adresse", "  moi@Prefecture.TEST ", "autre@prefecture.test"):
        async with db.transaction() as session:
            try:
                sent = await self_test.send_test(
                    session,
                    actor=actor,
                    bulletin_id=bulletin_id,
                    channel="email",
                    address=address,
                    policy=POLICY,
                    now=clock.now(),
                )
                outcomes.append((sent.deliveries, sent.address))
            except (InvalidInput, Forbidden) as refused:
                outcomes.append(refused.code)
    assert outcomes == ["invalid_address", (1, "moi@prefecture.test"), "foreign_test_address"]
