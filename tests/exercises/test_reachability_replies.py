"""« OK » replies to the reachability test: an official's answer on the channel that carried
the test confirms that delivery, with its time, and the run's result counts it (through the
fakes and Tocsin served over real HTTP, as a provider's webhook would reach it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import col, select

from channels.sandbox import Sandbox
from contacts.directory import ContactChannel
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.dispatch.outbox import Delivery
from exercises import approval, ending, launching, programme, reachability
from exercises.programme import DrillKind, DrillRun, DrillSpec
from tests.crisis.app.reply_support import answer, dispatch, tocsin_served, with_inbound_secrets
from tests.crisis.lifecycle_support import add_contact
from tests.exercises.support import LAUNCH, PREFECT, TRAINER
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio

ANNE, BRUNO, DENIS = "+33639980011", "+33639980012", "+33639980014"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def _mayor(db: Database, clock: FrozenClock, name: str, sms: str | None) -> int:
    async with db.transaction() as session:
        cid = await add_contact(
            session,
            name=name,
            audience="officials",
            channel=("sms", sms) if sms else None,
            now=clock.now(),
        )
        if sms is None:  # reached on no channel: a bounced address only
            session.add(ContactChannel(contact_id=cid, kind="phone", address="+33300000000"))
        return cid


async def _launched(db: Database, clock: FrozenClock, officials: list[int]) -> DrillRun:
    spec = DrillSpec(
        title="Joignabilité",
        kind=DrillKind.REACHABILITY,
        participants=officials,
        starts_at=clock.now() + timedelta(days=1),
    )
    async with db.transaction() as session:
        drill = await programme.create(
            session, actor=TRAINER, spec=spec, playbooks={}, now=clock.now()
        )
        assert drill.id is not None
    async with db.transaction() as session:
        await approval.approve(session, actor=PREFECT, drill_id=drill.id, now=clock.now())
    async with db.transaction() as session:
        return await launching.launch_now(
            session, actor=TRAINER, drill_id=drill.id, rules=LAUNCH, now=clock.now()
        )


async def _sent(
    db: Database, clock: FrozenClock, settings: Settings, sandbox: Sandbox, name: str, sms: str
) -> tuple[int, DrillRun]:
    """One official sent the test over the fakes: (the official, the run)."""
    official = await _mayor(db, clock, name, sms)
    run = await _launched(db, clock, [official])
    await dispatch(db, clock, settings, sandbox)
    return official, run


async def _result(db: Database, run: DrillRun, officials: list[int]) -> reachability.Result:
    async with db.read() as session:
        found = await session.get(DrillRun, run.id)
        assert found is not None
        return await reachability.result(
            session,
            officials=officials,
            message_ids=found.reach_messages or [],
            until=found.ended_at,
        )


async def test_an_ok_by_sms_confirms_the_test_and_the_result_counts_the_official_as_answered(
    db: Database, clock: FrozenClock, settings: Settings, sandbox: Sandbox
) -> None:
    inbound = with_inbound_secrets(settings)
    anne = await _mayor(db, clock, "Anne Répond", ANNE)
    bruno = await _mayor(db, clock, "Bruno Silence", BRUNO)
    claire = await _mayor(db, clock, "Claire Injoignable", None)
    officials = [anne, bruno, claire]
    run = await _launched(db, clock, officials)
    await dispatch(db, clock, inbound, sandbox)
    clock.advance(hours=30)  # past the pages' reply window: a test waits longer
    async with tocsin_served(inbound, db, clock, sandbox):
        replied = await answer(sandbox, "sms", to=ANNE, text="OK merci")
    assert replied["answer"]["outcome"] == "confirmed"
    async with db.read() as session:
        query = select(Delivery).where(col(Delivery.contact_id) == anne)
        delivery = (await session.exec(query)).one()
    assert (delivery.status, delivery.confirm_method) == ("confirmed", "reply")
    assert delivery.confirmed_at == clock.now()
    found = await _result(db, run, officials)
    assert found.answered == [(anne, "Anne Répond")]
    assert found.answered_at == {anne: clock.now()}
    assert [i for i, _ in found.silent] == [bruno]
    assert [i for i, _ in found.unreachable] == [claire]
    assert found.view()["answered_people"][0]["answered_at"] == clock.now().isoformat()


async def test_an_answer_after_the_run_ended_does_not_count_as_answered(
    db: Database, clock: FrozenClock, settings: Settings, sandbox: Sandbox
) -> None:
    inbound = with_inbound_secrets(settings)
    denis, run = await _sent(db, clock, inbound, sandbox, "Denis Tardif", DENIS)
    clock.advance(days=2)
    async with db.transaction() as session:
        assert await ending.end_finished(session, rules=LAUNCH, now=clock.now()) == 1
    clock.advance(hours=1)
    async with tocsin_served(inbound, db, clock, sandbox):
        await answer(sandbox, "sms", to=DENIS, text="ok")
    found = await _result(db, run, [denis])
    assert found.answered == [] and [i for i, _ in found.silent] == [denis]


async def test_an_ok_on_the_exercise_lane_never_confirms_the_real_test(
    db: Database, clock: FrozenClock, settings: Settings, sandbox: Sandbox
) -> None:
    inbound = with_inbound_secrets(settings)
    anne, run = await _sent(db, clock, inbound, sandbox, "Anne Répond", ANNE)
    async with tocsin_served(inbound, db, clock, sandbox) as url:
        sandbox.answer_to(
            url,
            telegram_secret="exercise-telegram-secret-of-the-test",
            sms_secret="exercise-sms-secret-of-the-test",
        )
        replied = await answer(sandbox, "sms", to=ANNE, text="OK")
    assert replied["answer"]["outcome"] == "unrecognised"
    assert (await _result(db, run, [anne])).answered == []
