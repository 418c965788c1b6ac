"""The dispatcher's and the cascades' periodic queries read the partial indexes of ``delivery``.

Each query is run for real, its SQL caught on the way to the driver, then explained with
the same parameters. On PostgreSQL the plan is the generic one, which a prepared statement
may settle on after a few runs: a status bound as a parameter could then not prove an
index's predicate, and the planner would scan the whole table on every tick.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app.db import Database
from crisis.bulletin import escalation
from crisis.dispatch import outbox, recovery, store
from crisis.dispatch.outbox import DUE_STATUSES, UNSETTLED_STATUSES
from tests.crisis.dispatch_support import emails, enqueue
from tests.support import FrozenClock


def _literal(value: object) -> str:
    """A parameter written in SQL, for ``EXECUTE`` (which takes no bound parameter)."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


async def _plan_of(
    db: Database, clock: FrozenClock, run: Callable[[AsyncSession], Awaitable[Any]]
) -> str:
    """The plan of every statement ``run`` sends on a small fan-out, as one text."""
    await enqueue(db, now=clock.now(), addresses=emails(20))
    caught: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        caught.append((statement, parameters))

    sync_engine = db.engine.sync_engine
    sa.event.listen(sync_engine, "before_cursor_execute", catch)
    try:
        async with db.transaction() as session:
            await run(session)
    finally:
        sa.event.remove(sync_engine, "before_cursor_execute", catch)
    plans = []
    async with db.transaction() as session:
        connection = await session.connection()
        sqlite = connection.dialect.name == "sqlite"
        if not sqlite:  # the tables are tiny: make the planner show what it can use
            await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        for statement, parameters in caught:
            if statement.lstrip().upper().startswith(("BEGIN", "SET", "SAVEPOINT", "RELEASE")):
                continue
            if sqlite:
                result = await connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement, parameters
                )
                plans.extend(str(row[-1]) for row in result)
                continue
            await connection.exec_driver_sql("PREPARE explained AS " + statement)
            values = ", ".join(_literal(value) for value in parameters)
            execute = (
                f"EXPLAIN EXECUTE explained({values})" if values else "EXPLAIN EXECUTE explained"
            )
            result = await connection.exec_driver_sql(execute)
            plans.extend(str(row[0]) for row in result)
            await connection.exec_driver_sql("DEALLOCATE explained")
    return "\n".join(plans)


def test_the_due_statuses_are_the_claim_predicate() -> None:
    listed = ", ".join(f"'{status.value}'" for status in DUE_STATUSES)
    assert f"status IN ({listed})" == store.CLAIMABLE


def test_the_unsettled_statuses_are_those_of_the_check_constraint() -> None:
    listed = ", ".join(f"'{status.value}'" for status in UNSETTLED_STATUSES)
    assert f"status IN ({listed})" == outbox.UNSETTLED


async def test_lease_recovery_reads_the_claim_index(db: Database, clock: FrozenClock) -> None:
    plan = await _plan_of(
        db,
        clock,
        lambda s: recovery.recover_expired(s, now=clock.now(), lease=timedelta(minutes=5)),
    )
    assert re.search(r"ix_delivery_claim\b(?!_)", plan)


async def test_counting_due_deliveries_reads_the_claim_index(
    db: Database, clock: FrozenClock
) -> None:
    plan = await _plan_of(db, clock, lambda s: store.count_due(s, now=clock.now()))
    assert "ix_delivery_claim" in plan


async def test_advancing_cascades_reads_the_index_of_waiting_cascade_ranks(
    db: Database, clock: FrozenClock
) -> None:
    plan = await _plan_of(db, clock, lambda s: escalation.advance_cascades(s, now=clock.now()))
    assert "ix_delivery_cascade_waiting" in plan


async def test_a_claim_reads_the_index_of_urgent_deliveries_then_the_claim_index(
    db: Database, clock: FrozenClock
) -> None:
    plan = await _plan_of(
        db, clock, lambda s: store.claim(s, now=clock.now(), limit=50, lease=timedelta(minutes=5))
    )
    assert "ix_delivery_claim_urgent" in plan
    assert re.search(r"ix_delivery_claim\b(?!_)", plan)  # the claim index itself, too
