"""The checklist ticks the steps Tocsin saw happen, and counts deadlines from their trigger."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.cell import checklist, crises, lifecycle
from crisis.cell.checklist import ChecklistEntry
from crisis.vocabulary import CrisisMode
from tests.crisis.bulletin_support import ABBEVILLE, published
from tests.crisis.lifecycle_support import PREFECT, RULES
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio


async def _declared(db: Database, now: datetime) -> int:
    async with db.transaction() as session:
        crisis = await crises.declare(
            session,
            actor=SYSTEM,
            title="Crue de l'Avre",
            kind="crue",
            mode=CrisisMode.REAL,
            communes=[ABBEVILLE],
            now=now,
            playbook=crises.playbook_for("crue", playbook_library()),
        )
    assert crisis.id is not None
    return crisis.id


async def _by_action(db: Database, crisis_id: int) -> dict[str | None, ChecklistEntry]:
    async with db.read() as session:
        return {e.action: e for e in await checklist.for_crisis(session, crisis_id=crisis_id)}


async def test_the_cell_order_and_the_cod_tick_themselves_and_start_their_followers_deadlines(
    db: Database, clock: FrozenClock
) -> None:
    declared = clock.now()
    crisis_id = await _declared(db, declared)
    before = await _by_action(db, crisis_id)
    assert before["order_cell"].done_at is None
    clock.advance(minutes=20)
    async with db.transaction() as session:
        await lifecycle.order_cell(
            session, actor=PREFECT, crisis_id=crisis_id, rules=RULES, now=clock.now()
        )
    clock.advance(minutes=5)
    decided = clock.now() - timedelta(minutes=3)
    async with db.transaction() as session:
        await lifecycle.record_cod(
            session,
            actor=PREFECT,
            crisis_id=crisis_id,
            activated_at=decided,
            synergi_ref="SYN-80-7",
            decided_by="Préfète",
            rules=RULES,
            now=clock.now(),
        )
    items = await _by_action(db, crisis_id)
    ordered_at = declared + timedelta(minutes=20)
    assert (items["order_cell"].done_at, items["order_cell"].done_by) == (ordered_at, "prefet")
    assert items["activate_cod"].done_at == decided
    operational = items["declare_cell_operational"]
    assert operational.done_at is None
    assert operational.due_at == ordered_at + timedelta(minutes=operational.due_offset_min)
    first = items["publish_first_bulletin"]
    assert first.due_at == decided + timedelta(minutes=first.due_offset_min)
    assert items[None].due_at == declared + timedelta(minutes=items[None].due_offset_min)


async def test_the_first_bulletin_step_ticks_once_each_audience_had_a_published_bulletin(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await _declared(db, clock.now())
    await published(db, clock.now(), crisis_id=crisis_id, audiences=["officials"])
    assert (await _by_action(db, crisis_id))["publish_first_bulletin"].done_at is None
    clock.advance(minutes=9)
    await published(db, clock.now(), crisis_id=crisis_id, audiences=["media", "public"])
    step = (await _by_action(db, crisis_id))["publish_first_bulletin"]
    assert (step.done_at, step.done_by) == (clock.now(), "com")
