"""A bulletin that asks for an X thread: bound by approval, published as one chained thread."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from channels.config import ChannelsConfig
from channels.rendering import EXERCISE_BANNER
from channels.sandbox import Received, Sandbox
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.bulletin import publication
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.workflow import Bulletin
from crisis.dispatch.dispatcher import Dispatcher
from crisis.dispatch.outbox import Delivery, OutboxMessage
from crisis.vocabulary import CrisisMode
from tests.crisis.bulletin_support import (
    BODY,
    COMMUNICATOR,
    POLICY,
    approved,
    created,
    declare,
    draft,
)
from tests.support import FrozenClock

# Complete (what, where, what to do, where to learn more, next update) and long: three posts.
LONG_BODY = BODY + "\n" + " ".join(["Restez à l'écart des berges et suivez les consignes."] * 7)
PUBLIC_ONLY = {"audiences": ["public"], "channels": ["x"], "x_thread": True, "body": LONG_BODY}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def _read(db: Database, bulletin_id: int) -> Bulletin:
    async with db.read() as session:
        return await bulletins.get(session, bulletin_id=bulletin_id)


async def test_the_thread_option_is_kept_and_the_x_rendering_is_numbered_parts(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    bulletin = await _read(db, await approved(db, clock.now(), crisis_id=crisis_id, **PUBLIC_ONLY))
    assert bulletin.x_thread
    x = bulletins.renderings(bulletin, policy=POLICY)["x"]
    assert x.ok and len(x.parts) == 3
    assert [p.rsplit(" ", 1)[1] for p in x.parts] == ["1/3", "2/3", "3/3"]
    assert all(length <= 280 for length in x.part_lengths)


async def test_changing_the_thread_option_after_approval_sends_the_bulletin_back_to_review(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    bulletin_id = await approved(db, clock.now(), crisis_id=crisis_id, **PUBLIC_ONLY)
    before = await _read(db, bulletin_id)
    assert before.status == "approved"
    async with db.transaction() as session:
        edited = await bulletins.edit(
            session,
            actor=COMMUNICATOR,
            bulletin_id=bulletin_id,
            draft=draft(**PUBLIC_ONLY | {"x_thread": False}),
            policy=POLICY,
            now=clock.now(),
        )
        assert (edited.status, edited.approved_hash, edited.x_thread) == ("submitted", None, False)
        assert edited.content_hash != before.content_hash


async def test_the_option_is_dropped_when_the_bulletin_does_not_use_x(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    channels = ["email", "public_page"]
    bulletin = await created(db, clock.now(), crisis_id=crisis_id, channels=channels, x_thread=True)
    plain = await created(db, clock.now(), crisis_id=crisis_id, channels=channels)
    assert not bulletin.x_thread
    assert bulletin.content_hash == plain.content_hash


def _dispatcher(db: Database, sandbox: Sandbox, *, exercise: bool) -> Dispatcher:
    x_only = ChannelsConfig(x=sandbox.config().x)
    return dispatcher_from_config(
        db=db,
        channels=ChannelsConfig() if exercise else x_only,
        exercise_channels=x_only if exercise else ChannelsConfig(),
        rng=random.Random(7),
    )


async def _publish_and_dispatch(
    db: Database, clock: FrozenClock, sandbox: Sandbox, *, mode: CrisisMode
) -> tuple[Delivery, list[Received]]:
    """The X delivery of a published thread once dispatched, and the three posts X got."""
    crisis_id = await declare(db, clock.now(), mode=mode)
    bulletin_id = await approved(db, clock.now(), crisis_id=crisis_id, **PUBLIC_ONLY)
    async with db.transaction() as session:
        await publication.publish(
            session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
        )
    worker = _dispatcher(db, sandbox, exercise=mode == CrisisMode.EXERCISE)
    try:
        report = await worker.run(clock.now())
    finally:
        await worker.aclose()
    assert report.sent == 1
    async with db.read() as session:
        [delivery] = (
            await session.exec(
                select(Delivery).where(Delivery.bulletin_id == bulletin_id, Delivery.channel == "x")
            )
        ).all()
        message = await session.get(OutboxMessage, delivery.message_id)
    assert message is not None and message.thread is not None and len(message.thread) == 3
    posts = sandbox.x.state.received
    assert [p.text for p in posts] == message.thread
    assert [p.meta.get("in_reply_to", "") for p in posts] == ["", posts[0].key, posts[1].key]
    return delivery, posts


async def test_a_published_thread_reaches_x_as_three_posts_chained_by_replies(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    delivery, posts = await _publish_and_dispatch(db, clock, sandbox, mode=CrisisMode.REAL)
    assert posts[0].text.startswith("Crue de la Somme à Abbeville\n\nSituation")
    assert (delivery.status, delivery.provider_id) == ("sent", posts[0].key)


async def test_an_exercise_thread_goes_to_the_sandbox_account_marked_in_every_post(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    delivery, posts = await _publish_and_dispatch(db, clock, sandbox, mode=CrisisMode.EXERCISE)
    assert all(p.text.startswith(EXERCISE_BANNER + "\n") for p in posts)
    assert delivery.audience == "exercise" and delivery.address == "@bac_a_sable"
