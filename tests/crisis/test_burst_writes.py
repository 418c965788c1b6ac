"""Bursts (a thousand clock alerts at once) write what one-by-one writes would, on both bases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from crisis import journal, journal_batch, journal_verification
from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.dispatch import outbox
from crisis.dispatch.outbox import (
    Delivery,
    DeliveryRequest,
    DeliveryStatus,
    OutboxMessage,
    Outgoing,
    Purpose,
    Rendering,
)
from crisis.vocabulary import CrisisMode
from tests.crisis.journal_support import write_entries
from tests.crisis.lifecycle_support import new_crisis
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio


def _outgoing(crisis_id: int, other_id: int) -> list[Outgoing]:
    """Three channels (one an X thread) with every optional field, then an exercise with a
    held-back cascade."""
    return [
        Outgoing(
            renderings=[
                Rendering(channel="email", text="Crue « 1 »", subject="Objet é", html="<p>1</p>"),
                Rendering(channel="sms", text="Crue 1 — SMS", link="https://t/evenements/1"),
                Rendering(channel="x", text="Crue 1/2 Suite 2/2", thread=("Crue 1/2", "Suite 2/2")),
            ],
            requests=[
                DeliveryRequest(
                    channel="sms", address="+33600000001", audience="staff", recipient_name="Zoé"
                ),
                DeliveryRequest(channel="x", address="@prefet", audience="public"),
                DeliveryRequest(
                    channel="email",
                    address="zoe@example.org",
                    audience="staff",
                    recipient_name="Zoé",
                    contact_id=12,
                    status=DeliveryStatus.TO_CALL,
                ),
            ],
            exercise=False,
            crisis_id=crisis_id,
        ),
        Outgoing(
            renderings=[Rendering(channel="email", text="EXERCICE — Crue 2")],
            requests=[
                DeliveryRequest(
                    channel="email",
                    address="exercice@example.org",
                    audience="exercise",
                    played_audience="staff",
                    cascade_group="g-1",
                    cascade_rank=1,
                    delay=timedelta(minutes=5),
                )
            ],
            exercise=True,
            crisis_id=other_id,
        ),
    ]


async def _written(db: Database, purpose: Purpose) -> list[tuple[Any, ...]]:
    """Each delivery with its message, without ids and keys (drawn anew by every write)."""
    async with db.read() as session:
        rows = (
            await session.exec(
                select(Delivery, OutboxMessage)
                .join(OutboxMessage, col(OutboxMessage.id) == col(Delivery.message_id))
                .where(Delivery.purpose == purpose.value)
                .order_by(col(Delivery.id))
            )
        ).all()
    skipped = {"id", "message_id", "idempotency_key"}
    return [
        (
            {k: v for k, v in sent.model_dump().items() if k not in skipped},
            {k: v for k, v in message.model_dump().items() if k != "id"},
        )
        for sent, message in rows
    ]


async def test_a_burst_stores_the_same_messages_and_deliveries_as_one_by_one_writes(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        first = (await new_crisis(session, now=clock.now())).id
        second = (await new_crisis(session, now=clock.now(), mode=CrisisMode.EXERCISE)).id
    assert first is not None and second is not None
    items = _outgoing(first, second)
    async with db.transaction() as session:
        for item in items:
            await outbox.enqueue(
                session,
                purpose=Purpose.TEST,
                renderings=item.renderings,
                requests=item.requests,
                now=clock.now(),
                exercise=item.exercise,
                crisis_id=item.crisis_id,
            )
    async with db.transaction() as session:
        count = await outbox.enqueue_many(
            session, purpose=Purpose.CLOCK_ALERT, batch=items, now=clock.now()
        )
    assert count == 4
    one_by_one = await _written(db, Purpose.TEST)
    burst = await _written(db, Purpose.CLOCK_ALERT)
    for (sent, message), (expected, expected_message) in zip(burst, one_by_one, strict=True):
        assert sent == expected | {"purpose": "clock_alert"}
        assert message == expected_message | {"purpose": "clock_alert"}
    assert burst[-1][0]["next_attempt_at"] == clock.now() + timedelta(minutes=5)
    to_call = [sent for sent, _ in burst if sent["status"] == "to_call"]
    assert [sent["next_attempt_at"] for sent in to_call] == [None]  # nothing to send
    assert [m["thread"] for _, m in burst] == [None, ["Crue 1/2", "Suite 2/2"], None, None]


async def _burst(db: Database, clock: FrozenClock, crisis_ids: list[int | None]) -> None:
    entries = [
        journal_batch.Pending(
            actor=SYSTEM, action="test.burst", crisis_id=crisis_id, payload={"rang": rank}
        )
        for rank, crisis_id in enumerate(crisis_ids)
    ]
    async with db.transaction() as session:
        await journal_batch.append_many(session, entries=entries, now=clock.advance(seconds=1))


async def _chains_verify(db: Database, crisis_ids: list[int | None]) -> dict[int | None, int]:
    checked: dict[int | None, int] = {}
    async with db.read() as session:
        for crisis_id in crisis_ids:
            report = await journal_verification.verify(session, crisis_id=crisis_id)
            assert report.ok, (crisis_id, report)
            checked[crisis_id] = report.checked
    return checked


async def test_bursts_and_single_entries_interleave_into_verifiable_chains(
    db: Database, clock: FrozenClock
) -> None:
    await write_entries(db, clock, 1, 1)
    await _burst(db, clock, [1, 2, None, 1, 3, 1])  # a chain advanced thrice in one burst
    await write_entries(db, clock, 2, 1)
    await _burst(db, clock, [3, None, 4])  # a new chain next to existing ones
    await write_entries(db, clock, None, 1)
    assert await _chains_verify(db, [None, 1, 2, 3, 4]) == {None: 12, 1: 4, 2: 2, 3: 2, 4: 1}
    async with db.read() as session:
        actions = (
            await session.exec(
                select(journal.JournalEntry.action).order_by(col(journal.JournalEntry.id))
            )
        ).all()
    assert actions[1:7] == ["test.burst"] * 6 and actions[7] == "test.step"


async def test_concurrent_bursts_and_single_entries_neither_deadlock_nor_fork_a_chain(
    db: Database, clock: FrozenClock, database_url: str
) -> None:
    others = [Database.from_url(database_url) for _ in range(2)]
    try:
        await asyncio.wait_for(
            asyncio.gather(
                *(_burst(d, clock, [1, 2, 3, None, 2]) for d in [db, *others] for _ in range(3)),
                *(
                    write_entries(d, clock, crisis, 1)
                    for d in [db, *others]
                    for crisis in (3, 2, 1)
                ),
            ),
            timeout=60,
        )
    finally:
        for other in others:
            await other.dispose()
    checked = await _chains_verify(db, [None, 1, 2, 3])
    assert checked == {None: 9 * 5 + 9, 1: 9 + 3, 2: 18 + 3, 3: 9 + 3}
    async with db.read() as session:
        heads = (await session.exec(sa.text("SELECT count(*) FROM journal_head"))).one()
    assert heads[0] == 4
