"""The clocks of the crises a page shows, computed together: their rows in one statement, their
clocks in two, each crisis' ES48 coverage in a read of its own (issue 22: pages while
everything runs at once)."""

from __future__ import annotations

from collections.abc import Awaitable

import sqlalchemy as sa

from crisis.app.db import Database
from crisis.app.live import JournalSignal
from crisis.app.web.shared_clocks import SharedClocks, States
from crisis.cell import crises, overview
from crisis.cell.crises import Crisis
from tests.crisis.lifecycle_support import cod_crisis, new_crisis
from tests.support import FrozenClock


async def _crises(db: Database, clock: FrozenClock) -> list[Crisis]:
    """One crisis with its COD (ES48 running), then three declared without one."""
    async with db.transaction() as session:
        ids = [await cod_crisis(session, now=clock.now())]
        ids += [(await new_crisis(session, now=clock.now())).id or 0 for _ in range(3)]
    async with db.read() as session:
        found = {c.id: c for c in await crises.among(session, crisis_ids=ids)}
    return [found[i] for i in ids]


async def _counted(db: Database, states: Awaitable[dict[int, States]]) -> int:
    sent: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if not statement.startswith(("BEGIN", "ROLLBACK", "COMMIT")):
            sent.append(statement)

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await states
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    return len(sent)


def _shared(db: Database) -> SharedClocks:
    return SharedClocks(db, JournalSignal(tick_seconds=0.25))


async def test_crises_without_a_cod_add_no_statement_to_the_clocks_of_a_dashboard(
    db: Database, clock: FrozenClock
) -> None:
    shown = await _crises(db, clock)
    alone = await _counted(db, _shared(db).states(shown[:1], clock.now()))
    together = await _counted(db, _shared(db).states(shown, clock.now()))
    assert together == alone


async def test_the_clocks_computed_together_are_those_computed_one_crisis_at_a_time(
    db: Database, clock: FrozenClock
) -> None:
    shown = await _crises(db, clock)
    kept = _shared(db)
    together = await kept.states(shown, clock.now())
    assert kept.computations == 4
    async with db.read() as session:
        one_by_one = {
            c.id: (await overview.clock_states(session, crises=[c], now=clock.now()))[c.id or 0]
            for c in shown
        }
    assert together == one_by_one
    assert together[shown[0].id or 0][1].coverage is not None  # ES48 of the crisis with its COD
