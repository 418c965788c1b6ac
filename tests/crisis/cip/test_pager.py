"""The CIP's own on-call roster: paged at the order, escalated by the leader tick, and an
answer to a page is the person's check-in (an operator account) or « en route » (a contact)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.roster import Shift
from crisis import journal, paged_answers
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.app.ticks import clock_tick
from crisis.cell import paging
from crisis.cell.paging import CellPage
from crisis.cip import ordering, pager, record
from crisis.cip.rules import CipRules
from crisis.dispatch.outbox import Delivery, OutboxMessage
from crisis.errors import Conflict
from crisis.vocabulary import CrisisMode
from tests.crisis.lifecycle_support import PREFECT, add_on_call, new_crisis, roster
from tests.support import FrozenClock, make_user

pytestmark = pytest.mark.asyncio

RULES = CipRules(page_escalation=timedelta(minutes=15), base_url="https://tocsin.test")


async def cip_roster(session: AsyncSession, *, now: datetime, audience: str = "staff") -> None:
    """Levels 1 and 2 of the CIP's operators, level 1 of its head (directory contacts)."""
    for name, role, level in (
        ("Olga Op1", "cip_operator", 1),
        ("Oscar Op2", "cip_operator", 2),
        ("Hélène Chef1", "cip_head", 1),
    ):
        await add_on_call(session, name=name, role=role, level=level, now=now, audience=audience)


async def ordered_cip(
    db: Database, now: datetime, *, mode: CrisisMode = CrisisMode.REAL, rules: CipRules = RULES
) -> int:
    async with db.transaction() as session:
        crisis = await new_crisis(session, now=now, mode=mode)
        assert crisis.id is not None
        await ordering.order(
            session,
            actor=PREFECT,
            crisis_id=crisis.id,
            number="0 800 10 02 00",
            decided_by=None,
            expected_opening_at=None,
            rules=rules,
            now=now,
        )
        return crisis.id


async def cip_pages(db: Database, crisis_id: int) -> list[CellPage]:
    async with db.read() as session:
        return await pager.pages(session, crisis_id=crisis_id)


async def actions(db: Database, crisis_id: int) -> list[str]:
    async with db.read() as session:
        return [e.action for e in await journal.for_crisis(session, crisis_id=crisis_id)]


async def test_ordering_the_cip_pages_level_one_of_each_cip_role_and_not_the_cell(
    db: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    async with db.transaction() as session:
        await roster(session, now=now)
        await cip_roster(session, now=now)
    crisis_id = await ordered_cip(db, now)
    pages = await cip_pages(db, crisis_id)
    assert sorted((p.duty_role, p.level, p.name) for p in pages) == [
        ("cip_head", 1, "Hélène Chef1"),
        ("cip_operator", 1, "Olga Op1"),
    ]
    async with db.read() as session:
        deliveries = (await session.exec(select(Delivery))).all()
        texts = (await session.exec(select(OutboxMessage.text))).all()
        assert await paging.pages_of(session, crisis_id=crisis_id) == []  # the cell's view
    assert {(d.purpose, d.audience, d.recipient_name) for d in deliveries} == {
        ("page", "staff", "Hélène Chef1"),
        ("page", "staff", "Olga Op1"),
    }
    assert all("cellule d'information du public (CIP)" in t for t in texts)
    assert all("https://tocsin.test/acquitter/" in t for t in texts)
    assert (await actions(db, crisis_id))[-2:] == ["cip.ordered", "cip.paged"]


async def test_with_nobody_on_the_cip_roster_the_order_says_so_in_the_journal(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())  # the cell's roster only
    crisis_id = await ordered_cip(db, clock.now())
    assert await cip_pages(db, crisis_id) == []
    assert (await actions(db, crisis_id))[-1] == "cip.nobody_on_duty"


async def test_a_role_without_answer_pages_its_next_level_once_after_the_delay(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await cip_roster(session, now=clock.now())
    crisis_id = await ordered_cip(db, clock.now())
    clock.advance(minutes=14, seconds=59)
    async with db.transaction() as session:
        assert await pager.escalate(session, rules=RULES, now=clock.now()) == 0
    clock.advance(seconds=1)
    async with db.transaction() as session:
        assert await pager.escalate(session, rules=RULES, now=clock.now()) == 1
    async with db.transaction() as session:  # the same tick again: nothing more
        assert await pager.escalate(session, rules=RULES, now=clock.now()) == 0
    pages = await cip_pages(db, crisis_id)
    assert [(p.duty_role, p.level) for p in pages if p.paged_at == clock.now()] == [
        ("cip_operator", 2)
    ]
    states = {(s.name, s.state) for s in pager.page_states(pages, [])}
    assert states == {
        ("Olga Op1", "escalated"),
        ("Hélène Chef1", "waiting"),
        ("Oscar Op2", "waiting"),
    }
    clock.advance(minutes=30)  # no level 3 on the roster, the head has no level 2
    async with db.transaction() as session:
        assert await pager.escalate(session, rules=RULES, now=clock.now()) == 0


async def test_an_answered_role_is_not_escalated(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        await cip_roster(session, now=clock.now())
    crisis_id = await ordered_cip(db, clock.now())
    olga = next(p for p in await cip_pages(db, crisis_id) if p.name == "Olga Op1")
    clock.advance(minutes=5)
    async with db.transaction() as session:
        assert olga.id is not None
        await paged_answers.acknowledge_reply(session, page_id=olga.id, now=clock.now())
    clock.advance(minutes=20)
    async with db.transaction() as session:
        assert await pager.escalate(session, rules=RULES, now=clock.now()) == 0
    pages = await cip_pages(db, crisis_id)
    states = {(s.name, s.state) for s in pager.page_states(pages, [])}
    assert states == {("Olga Op1", "en_route"), ("Hélène Chef1", "waiting")}
    assert "cip.page_answered" in await actions(db, crisis_id)


async def test_an_operator_account_answering_its_page_is_checked_in_for_the_role_paged(
    db: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    operator = await make_user(db, clock, "op1", "operator")
    async with db.transaction() as session:
        session.add(
            Shift(
                role="cip_head",
                level=1,
                user_id=operator.id,
                name="Odile Opératrice",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=8),
            )
        )
    crisis_id = await ordered_cip(db, now)
    async with db.read() as session:
        link = (await session.exec(select(OutboxMessage.link))).first()
    assert link is not None
    token = link.rsplit("/", 1)[1]
    clock.advance(minutes=3)
    async with db.transaction() as session:
        await paged_answers.acknowledge_link(session, token=token, now=clock.now())
    async with db.transaction() as session:
        with pytest.raises(Conflict):
            await paged_answers.acknowledge_link(session, token=token, now=clock.now())
    async with db.read() as session:
        shifts = await record.shifts(session, crisis_id=crisis_id, present_only=True)
    assert [(s.user_id, s.role, s.checked_in_at) for s in shifts] == [
        (operator.id, "head", clock.now())
    ]
    pages = await cip_pages(db, crisis_id)
    assert [s.state for s in pager.page_states(pages, shifts)] == ["in_post"]
    assert (await actions(db, crisis_id))[-2:] == ["cip.checked_in", "cip.page_answered"]


async def test_an_exercise_cip_pages_only_exercise_participants_in_the_exercise_lane(
    db: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    async with db.transaction() as session:
        await cip_roster(session, now=now)  # real staff: never paged by an exercise
        await add_on_call(
            session, name="Xavier Exo", role="communication", level=1, now=now, audience="exercise"
        )
    crisis_id = await ordered_cip(db, now, mode=CrisisMode.EXERCISE)
    pages = await cip_pages(db, crisis_id)
    assert [(p.duty_role, p.name) for p in pages] == [("cip_operator", "Xavier Exo")]
    async with db.read() as session:
        deliveries = (await session.exec(select(Delivery))).all()
        texts = (await session.exec(select(OutboxMessage.text))).all()
    assert {(d.audience, d.played_audience, d.recipient_name) for d in deliveries} == {
        ("exercise", "staff", "Xavier Exo")
    }
    assert all(t.startswith("EXERCICE EXERCICE EXERCICE") for t in texts)
    clock.advance(minutes=20)
    async with db.transaction() as session:
        assert await pager.escalate(session, rules=RULES, now=clock.now()) == 0


async def test_the_leader_tick_escalates_the_cip_roster_exactly_once(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await cip_roster(session, now=clock.now())
    crisis_id = await ordered_cip(db, clock.now())
    clock.advance(minutes=settings.page_escalation_minutes)
    tick = clock_tick(db, settings)
    await tick(clock.now())
    await tick(clock.now())
    clock.advance(seconds=5)
    await tick(clock.now())
    pages = await cip_pages(db, crisis_id)
    assert sorted((p.name, p.level) for p in pages) == [
        ("Hélène Chef1", 1),
        ("Olga Op1", 1),
        ("Oscar Op2", 2),
    ]
    assert (await actions(db, crisis_id)).count("cip.paged") == 2
