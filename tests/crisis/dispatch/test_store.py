from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from crisis.app.db import Database
from crisis.dispatch import recovery, store
from crisis.dispatch.outbox import DeliveryStatus
from tests.crisis.dispatch_support import deliveries, emails, enqueue
from tests.support import FrozenClock

LEASE = timedelta(minutes=5)


async def test_a_claim_takes_the_earliest_due_deliveries_and_leaves_the_rest(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue(db, now=clock.now() + timedelta(minutes=1), addresses=emails(3, prefix="tard"))
    await enqueue(db, now=clock.now(), addresses=emails(4))
    async with db.transaction() as session:
        first = await store.claim(session, now=clock.now(), limit=3, lease=LEASE)
    async with db.transaction() as session:
        second = await store.claim(session, now=clock.now(), limit=3, lease=LEASE)
    due = [d for d in await deliveries(db) if d.address.startswith("maire")]
    assert [c.id for c in first + second] == [d.id for d in due]
    assert {c.attempts for c in first + second} == {1}
    assert all(d.status == DeliveryStatus.SENDING for d in due)
    assert all(d.lease_until == clock.now() + LEASE for d in due)


async def test_an_outcome_of_a_recovered_attempt_does_not_overwrite_the_newer_one(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue(db, now=clock.now(), addresses=emails(2))
    async with db.transaction() as session:
        old = await store.claim(session, now=clock.now(), limit=2, lease=LEASE)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    async with db.transaction() as session:
        assert await recovery.recover_expired(session, now=clock.now(), lease=LEASE) == 2
        new = await store.claim(session, now=clock.now(), limit=2, lease=LEASE)
    async with db.transaction() as session:
        await store.record(
            session,
            updates=[
                store.Update(id=c.id, attempts=c.attempts, status=DeliveryStatus.FAILED)
                for c in old
            ]
            + [
                store.Update(
                    id=new[0].id,
                    attempts=new[0].attempts,
                    status=DeliveryStatus.SENT,
                    provider_id="<a@b>",
                    sent_at=clock.now(),
                ),
                store.Update(
                    id=new[1].id,
                    attempts=new[1].attempts,
                    status=DeliveryStatus.RETRYING,
                    error="Nouvel essai prévu",
                    next_attempt_at=clock.now() + timedelta(seconds=30),
                ),
            ],
        )
    sent, retrying = await deliveries(db)
    assert (sent.status, sent.attempts, sent.provider_id) == ("sent", 2, "<a@b>")
    assert sent.sent_at == clock.now()
    assert (retrying.status, retrying.last_error) == ("retrying", "Nouvel essai prévu")
    assert retrying.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert retrying.lease_until is None


async def _postgres_claim_plan(connection: AsyncConnection) -> str:
    """The plan of the claim's SELECT (its ``UPDATE`` wraps it), one line per node."""
    query = (
        "EXPLAIN SELECT id FROM delivery WHERE "
        + store.CLAIMABLE
        + " AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT 200"
        " FOR UPDATE SKIP LOCKED"
    )
    return "\n".join(str(row[0]) for row in await connection.execute(sa.text(query)))


async def test_a_claim_reads_the_claim_index_instead_of_sorting_every_due_row(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        connection = await session.connection()
        if connection.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1])
                for row in await connection.execute(
                    sa.text("EXPLAIN QUERY PLAN " + str(store._CLAIM_SQLITE)),
                    {"now": clock.now().isoformat(), "limit": 200},
                )
            )
        else:  # as the claim runs: no bitmap scan (``plan_claims``)
            await connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
            await store.plan_claims(connection)
            plan = await _postgres_claim_plan(connection)
    assert "ix_delivery_claim" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan


async def test_a_claim_on_a_fresh_fan_out_reads_the_claim_index_before_any_analyze(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue(db, now=clock.now(), addresses=emails(3000))
    async with db.transaction() as session:
        connection = await session.connection()
        if connection.dialect.name != "postgresql":
            pytest.skip("the SQLite claim names its index (INDEXED BY)")
        await store.plan_claims(connection)
        plan = await _postgres_claim_plan(connection)
    assert "Index Scan using ix_delivery_claim" in plan
    assert "Bitmap" not in plan and "Sort" not in plan


async def test_recorded_instants_are_stored_like_every_other_instant_of_the_table(
    db: Database, clock: FrozenClock
) -> None:
    """SQLite compares instants as text: a batch written as JSON must keep SQLAlchemy's form."""
    await enqueue(db, now=clock.now(), addresses=emails(2))
    async with db.transaction() as session:
        sent, retried = await store.claim(session, now=clock.now(), limit=2, lease=LEASE)
        later = clock.now() + timedelta(seconds=30, microseconds=7)
        await store.record(
            session,
            updates=[
                store.Update(
                    id=sent.id, attempts=1, status=DeliveryStatus.SENT, sent_at=clock.now()
                ),
                store.Update(
                    id=retried.id,
                    attempts=1,
                    status=DeliveryStatus.RETRYING,
                    next_attempt_at=later,
                ),
            ],
        )
    async with db.read() as session:
        stored = (
            await session.execute(
                sa.text(
                    "SELECT CAST(created_at AS TEXT), CAST(sent_at AS TEXT),"
                    " CAST(next_attempt_at AS TEXT) FROM delivery ORDER BY id"
                )
            )
        ).all()
    assert stored[0][1] == stored[0][0]  # sent at the instant the rows were made: same text
    if db.dialect == "sqlite":
        assert stored[1][2] == "2026-11-28 14:00:30.000007"
    async with db.transaction() as session:
        early = await store.claim(
            session, now=later - timedelta(microseconds=1), limit=2, lease=LEASE
        )
    async with db.transaction() as session:
        due = await store.claim(session, now=later, limit=2, lease=LEASE)
    assert early == []
    assert [c.id for c in due] == [retried.id]


async def test_a_delivery_recovered_after_a_crash_says_what_its_channel_guarantees(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue(db, now=clock.now(), addresses=emails(1))
    await enqueue(db, now=clock.now(), channel="telegram", addresses=["-100123"])
    async with db.transaction() as session:
        await store.claim(session, now=clock.now(), limit=2, lease=LEASE)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    async with db.transaction() as session:
        assert await recovery.recover_expired(session, now=clock.now(), lease=LEASE) == 2
    said = {d.channel: d.last_error or "" for d in await deliveries(db)}
    assert "même Message-ID" in said["email"]
    assert "a pu être reçu deux fois" in said["telegram"]
