"""A claim writes no index entry: only recording the outcome moves a delivery in the indexes.

A fan-out writes each delivery twice (claimed, then sent). PostgreSQL rewrites every index
of a row on an update unless no indexed column changes and the new version fits on the same
page (a HOT update); SQLite rewrites the indexes whose columns change. So no index of
``delivery`` may hold or filter on what a claim writes, and the table keeps room on its pages.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crisis.app.db import Database
from crisis.dispatch import recovery, store
from crisis.dispatch.outbox import DeliveryStatus
from tests.crisis.dispatch_support import deliveries, emails, enqueue
from tests.support import FrozenClock

LEASE = timedelta(minutes=5)
CLAIM_WRITES = ("status", "attempts", "lease_until")


async def _index_definitions(db: Database) -> dict[str, str]:
    """Every index of ``delivery`` as the database holds it (columns and predicate)."""
    async with db.read() as session:
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'delivery'"
        else:
            query = (
                "SELECT name, coalesce(sql, name) FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = 'delivery'"
            )
        return {name: definition for name, definition in await connection.execute(sa.text(query))}


async def test_no_index_of_deliveries_holds_or_filters_on_what_a_claim_writes(
    db: Database,
) -> None:
    definitions = await _index_definitions(db)
    assert "ix_delivery_claim" in definitions
    for name, definition in definitions.items():
        for column in CLAIM_WRITES:
            assert column not in definition.split(" ON ", 1)[-1], (name, definition)


async def test_a_claim_on_postgresql_is_a_hot_update_and_the_outcome_is_not(
    db: Database, clock: FrozenClock
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("HOT updates are PostgreSQL's")
    async with db.transaction() as session:  # new pages: none holds dead rows of earlier tests
        await session.execute(sa.text("TRUNCATE delivery CASCADE"))
    await enqueue(db, now=clock.now(), addresses=emails(500))
    # This backend's counts not yet reported, the current transaction's included.
    statistics = sa.text(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'delivery'"
    )
    async with db.transaction() as session:
        connection = await session.connection()
        updated_before, hot_before = (await connection.execute(statistics)).one()
        claimed = await store.claim(session, now=clock.now(), limit=500, lease=LEASE)
        updated, hot = (await connection.execute(statistics)).one()
    assert (len(claimed), updated - updated_before, hot - hot_before) == (500, 500, 500)
    async with db.transaction() as session:
        connection = await session.connection()
        outcomes = [
            store.Update(
                id=c.id, attempts=c.attempts, status=DeliveryStatus.SENT, sent_at=clock.now()
            )
            for c in claimed
        ]
        updated_before, hot_before = (await connection.execute(statistics)).one()
        await store.record(session, updates=outcomes)
        updated, hot = (await connection.execute(statistics)).one()
    # the row leaves the claim indexes: the one update per delivery that writes index entries
    assert (updated - updated_before, hot - hot_before) == (500, 0)


async def test_a_settled_delivery_has_no_next_attempt_and_the_database_refuses_one(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue(db, now=clock.now(), addresses=emails(1))
    async with db.transaction() as session:
        [sent] = await store.claim(session, now=clock.now(), limit=1, lease=LEASE)
        outcome = store.Update(id=sent.id, attempts=1, status=DeliveryStatus.SENT)
        await store.record(session, updates=[outcome])
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.next_attempt_at) == ("sent", None)
    with pytest.raises(IntegrityError, match="ck_delivery_scheduled"):
        async with db.transaction() as session:
            connection = await session.connection()
            await connection.execute(sa.text("UPDATE delivery SET next_attempt_at = created_at"))
    [delivery] = await deliveries(db)
    assert delivery.next_attempt_at is None


async def test_a_lease_is_recovered_once_run_out_and_not_a_moment_before(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue(db, now=clock.now(), addresses=emails(1))
    async with db.transaction() as session:
        await store.claim(session, now=clock.now(), limit=1, lease=LEASE)
    clock.advance(seconds=LEASE.total_seconds())
    async with db.transaction() as session:
        assert await recovery.recover_expired(session, now=clock.now(), lease=LEASE) == 0
    clock.advance(seconds=0.001)
    async with db.transaction() as session:
        assert await recovery.recover_expired(session, now=clock.now(), lease=LEASE) == 1
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.next_attempt_at) == ("retrying", clock.now())
