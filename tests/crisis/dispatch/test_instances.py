"""Claims carry their instance: a stop gives them back at once, a dead instance's within seconds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from channels.base import Message, Receipt, Recipient
from channels.kinds import ChannelKind
from crisis.app.background import Background
from crisis.app.db import Database
from crisis.dispatch import instances, store
from crisis.dispatch.dispatcher import Dispatcher, DispatchTuning
from crisis.dispatch.instances import INSTANCE
from storage.types import UTCDateTime
from tests.crisis.dispatch_support import RecordingChannel, deliveries, emails, enqueue
from tests.support import FrozenClock


@dataclass
class HangingChannel(RecordingChannel):
    """Every send waits for ``gate``: sends stay under way until the test opens it."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)
    full: asyncio.Event = field(default_factory=asyncio.Event)  # 64 sends under way
    under_way: int = 0

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        self.under_way += 1
        if self.under_way == 64:
            self.full.set()
        await self.gate.wait()
        return await super().send(message, recipient)


async def _dispatch_until_under_way(
    db: Database, clock: FrozenClock, channel: HangingChannel, count: int
) -> Dispatcher:
    await enqueue(db, now=clock.now(), addresses=emails(count))
    dispatcher = Dispatcher(
        db=db,
        real={ChannelKind.EMAIL: channel},
        exercise={},
        tuning=DispatchTuning(stop_grace_seconds=0.2),
    )
    dispatcher.claimant = "instance-a"
    await dispatcher.tick(clock.now())
    await asyncio.wait_for(channel.full.wait(), 10)  # the generous pacing: 64 sends in flight
    return dispatcher


async def test_a_stop_records_the_sends_that_finish_and_gives_back_the_queued_ones_uncounted(
    db: Database, clock: FrozenClock
) -> None:
    channel = HangingChannel(ChannelKind.EMAIL, "courriel")
    dispatcher = await _dispatch_until_under_way(db, clock, channel, 100)
    closing = asyncio.create_task(dispatcher.aclose(timeout=10))
    await asyncio.sleep(0.05)
    channel.gate.set()  # the sends under way finish within the grace
    await closing
    rows = await deliveries(db)
    assert (
        sorted((d.status, d.attempts) for d in rows) == [("pending", 0)] * 36 + [("sent", 1)] * 64
    )
    assert len(channel.sent) == 64
    assert all(d.next_attempt_at is not None for d in rows if d.status == "pending")


async def test_sends_cut_off_after_the_grace_go_back_to_retrying_with_their_attempt_counted(
    db: Database, clock: FrozenClock
) -> None:
    channel = HangingChannel(ChannelKind.EMAIL, "courriel")
    dispatcher = await _dispatch_until_under_way(db, clock, channel, 100)
    await dispatcher.aclose()  # nothing answers within the 0.2 s grace
    rows = await deliveries(db)
    counted = sorted((d.status, d.attempts) for d in rows)
    assert counted == [("pending", 0)] * 36 + [("retrying", 1)] * 64
    assert {d.claimed_by for d in rows} == {None}


async def _silence(db: Database, instance_id: str, *, seconds: float, now: datetime) -> None:
    """Move an instance's last heartbeat ``seconds`` into the past (the database's clock)."""
    ago = timedelta(seconds=seconds)
    postgres = db.dialect == "postgresql"
    value = sa.func.now() - ago if postgres else sa.literal(now - ago, UTCDateTime)
    async with db.transaction() as session:
        await session.execute(
            sa.update(INSTANCE).where(INSTANCE.c.id == instance_id).values(heartbeat_at=value)
        )


async def test_another_instance_puts_back_the_claims_of_one_that_stopped_beating(
    db: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    await enqueue(db, now=now, addresses=emails(5))
    async with db.transaction() as session:
        for name in ("a", "b"):
            await instances.register(session, instance_id=name, name=name, now=now)
        claimed = await store.claim(
            session, now=now, limit=10, lease=timedelta(minutes=5), claimant="a"
        )
    assert len(claimed) == 5
    async with db.transaction() as session:
        assert await instances.recover_dead(session, me="b", now=now) == 0  # "a" is alive
        assert await instances.live_instances(session) == (2 if db.dialect == "postgresql" else 1)
    await _silence(db, "a", seconds=7, now=now)
    async with db.transaction() as session:
        assert await instances.recover_dead(session, me="b", now=now) == 5
        assert await instances.live_instances(session) == 1
        assert await instances.recover_dead(session, me="b", now=now) == 0  # once
    rows = await deliveries(db)
    assert {(d.status, d.attempts, d.next_attempt_at) for d in rows} == {("retrying", 1, now)}
    assert len({d.idempotency_key for d in rows}) == 5  # the same keys: the resend is recognised


async def test_a_worker_starting_on_sqlite_gives_back_what_the_last_one_left_sending(
    db: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    await enqueue(db, now=now, addresses=emails(3))
    async with db.transaction() as session:
        await store.claim(session, now=now, limit=10, lease=timedelta(minutes=5))
    background = Background(db=db, clock=clock)
    async with background.running():
        pass
    statuses = {d.status for d in await deliveries(db)}
    # One instance on SQLite: at once. On PostgreSQL, rows without an instance wait for their
    # lease (the fallback), since another live instance may be sending them.
    assert statuses == ({"retrying"} if db.dialect == "sqlite" else {"sending"})
