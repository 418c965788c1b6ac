"""Staff alerts go out before the backlog of a fan-out published before them."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import pytest

from channels.config import ChannelsConfig
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.dispatch import outbox, store
from crisis.dispatch.dispatcher import DispatchTuning
from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering
from tests.crisis.dispatch_support import emails, enqueue
from tests.support import FrozenClock

ON_CALL = "astreinte@somme.gouv.fr"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def arrivals(
    db: Database,
    clock: FrozenClock,
    sandbox: Sandbox,
    *,
    window: int,
    readings: Callable[[], datetime] | None = None,
) -> list[str]:
    """Run one pass through the sandbox relay on a single connection (messages then arrive
    in the order they are sent); the recipients in order of arrival."""
    smtp = sandbox.config().smtp
    assert smtp is not None
    worker = dispatcher_from_config(
        db=db,
        channels=ChannelsConfig(
            smtp=smtp.model_copy(update={"rate_per_second": 100_000.0, "pool_size": 1})
        ),
        exercise_channels=ChannelsConfig(),
        tuning=DispatchTuning(claim_size=10, window=window, record_size=10),
        rng=random.Random(7),
        clock=readings,
    )
    report = await worker.run(clock.now())
    await worker.aclose()
    assert report.sent == report.claimed
    return [message.recipient for message in sandbox.smtp.state.received]


async def page(db: Database, *, clock: FrozenClock, due_in: timedelta = timedelta(0)) -> None:
    async with db.transaction() as session:
        await outbox.enqueue(
            session,
            purpose=Purpose.PAGE,
            renderings=[Rendering(channel="email", text="Cellule à armer", subject="Astreinte")],
            requests=[DeliveryRequest(channel="email", address=ON_CALL, audience="staff")],
            now=clock.now() + due_in,
            exercise=False,
        )


async def test_a_claim_takes_a_due_page_before_bulletin_deliveries_due_earlier(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue(db, now=clock.now() - timedelta(minutes=1), addresses=emails(30))
    await page(db, clock=clock)
    async with db.transaction() as session:
        claimed = await store.claim(session, now=clock.now(), limit=5, lease=timedelta(minutes=5))
    assert claimed[0].address == ON_CALL
    assert [c.urgent for c in claimed] == [True, False, False, False, False]
    assert [c.address for c in claimed[1:]] == emails(30)[:4]


async def test_a_page_is_sent_before_the_fan_out_claimed_with_it(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now() - timedelta(minutes=1), addresses=emails(30))
    await page(db, clock=clock)
    received = await arrivals(db, clock, sandbox, window=10)
    assert received[0] == ON_CALL
    assert received[1:] == emails(30)


async def test_a_page_due_during_a_fan_out_jumps_the_deliveries_already_queued(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now() - timedelta(minutes=1), addresses=emails(30))
    await page(db, clock=clock, due_in=timedelta(seconds=2))
    ticks = iter(range(1, 1000))
    received = await arrivals(
        db,
        clock,
        sandbox,
        window=20,
        readings=lambda: clock.now() + timedelta(seconds=next(ticks)),  # a second each
    )
    assert len(received) == 31
    # Claimed second, after ten e-mails of which the first was already on its way.
    assert received.index(ON_CALL) == 1
