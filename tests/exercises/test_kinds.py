"""What each kind of drill does when launched, and STOP EXERCICE."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from crisis import paged_answers
from crisis.app.db import Database
from crisis.cell import paging
from crisis.cell.crises import Crisis
from crisis.dispatch.outbox import Delivery, OutboxMessage
from crisis.errors import Forbidden
from crisis.journal import JournalEntry
from exercises import ending, launching, results
from exercises.errors import DrillConflict, DrillRefused
from exercises.programme import DrillKind, DrillRun, RunStatus
from tests.crisis.lifecycle_support import COMMUNICATOR, add_contact, add_on_call, roster
from tests.exercises.support import LAUNCH, PREFECT, TRAINER, participants, plan, stop
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio


async def _launch(db: Database, clock: FrozenClock, drill_id: int | None) -> DrillRun:
    assert drill_id is not None
    async with db.transaction() as session:
        return await launching.launch_now(
            session, actor=TRAINER, drill_id=drill_id, rules=LAUNCH, now=clock.now()
        )


async def _on_call_run(db: Database, clock: FrozenClock) -> DrillRun:
    """An on-call test of the test roster (two levels of two roles, a prefect), launched."""
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        drill = await plan(
            session,
            now=clock.now(),
            kind=DrillKind.ON_CALL,
            people=[],
            starts_at=clock.now() + timedelta(days=1),
        )
    return await _launch(db, clock, drill.id)


async def _deliveries(db: Database, crisis_id: int | None) -> list[Delivery]:
    async with db.read() as session:
        query = select(Delivery).where(Delivery.crisis_id == crisis_id)
        return list((await session.exec(query)).all())


async def test_a_crisis_drill_declares_an_exercise_crisis_and_reaches_only_participants(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())  # the real on-call roster, never paged
        mayor = await add_contact(session, name="Maire Réel", audience="officials", now=clock.now())
        people = await participants(session, now=clock.now(), count=3)
        drill = await plan(
            session, now=clock.now(), people=people, starts_at=clock.now() + timedelta(days=1)
        )
    run = await _launch(db, clock, drill.id)
    async with db.read() as session:
        crisis = await session.get(Crisis, run.crisis_id)
    assert crisis is not None
    assert (crisis.mode, crisis.kind, crisis.playbook_key, crisis.communes) == (
        "exercise",
        "crue",
        "crue",
        ["80021"],
    )
    sent = await _deliveries(db, run.crisis_id)
    assert sent and {d.audience for d in sent} == {"exercise"}
    assert {d.contact_id for d in sent} == set(people)
    assert mayor not in {d.contact_id for d in sent}
    async with db.read() as session:
        texts = (await session.exec(select(OutboxMessage.text))).all()
    assert all(t.startswith("EXERCICE EXERCICE EXERCICE") for t in texts)
    assert any("Début d'exercice — aucune action réelle" in t for t in texts)


async def test_an_on_call_test_pages_the_roster_in_the_exercise_lane_and_times_the_answers(
    db: Database, clock: FrozenClock
) -> None:
    run = await _on_call_run(db, clock)
    assert run.crisis_id is not None
    sent = await _deliveries(db, run.crisis_id)
    assert len(sent) == 5  # every level on duty: the whole roster is tested
    assert {(d.audience, d.played_audience, d.purpose) for d in sent} == {
        ("exercise", "staff", "page")
    }
    async with db.read() as session:
        pages = await paging.pages_of(session, crisis_id=run.crisis_id)
    first = next(p for p in pages if p.name == "Camille Com1")
    clock.advance(minutes=4, seconds=30)
    async with db.transaction() as session:
        assert first.id is not None
        await paged_answers.acknowledge_reply(session, page_id=first.id, now=clock.now())
    async with db.read() as session:
        lines = await results.answers(session, crisis_id=run.crisis_id)
    timed = {line.name: line.seconds for line in lines}
    assert timed["Camille Com1"] == 270 and timed["Bruno Com2"] is None
    figures = {f.duty_role: f for f in results.by_role(lines)}
    assert (figures["communication"].paged, figures["communication"].answered) == (2, 1)
    assert figures["communication"].median_seconds == 270


async def test_an_on_call_test_ends_by_itself_after_its_duration(
    db: Database, clock: FrozenClock
) -> None:
    run = await _on_call_run(db, clock)
    for minutes, expected in ((59, RunStatus.RUNNING), (1, RunStatus.ENDED)):
        clock.advance(minutes=minutes)
        async with db.transaction() as session:
            await ending.end_finished(session, rules=LAUNCH, now=clock.now())
        async with db.read() as session:
            found = await session.get(DrillRun, run.id)
            assert found is not None and found.status == expected
    async with db.read() as session:
        crisis = await session.get(Crisis, run.crisis_id)
    assert crisis is not None and crisis.status == "closed"


async def test_stop_exercice_cancels_pending_deliveries_tells_everyone_and_journals_why(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        people = await participants(session, now=clock.now(), count=2)
        drill = await plan(
            session, now=clock.now(), people=people, starts_at=clock.now() + timedelta(days=1)
        )
    run = await _launch(db, clock, drill.id)
    waiting = [d.id for d in await _deliveries(db, run.crisis_id) if d.status == "pending"]
    assert waiting
    clock.advance(minutes=3)
    await stop(db, run, actor=PREFECT, reason="Crue réelle en cours", now=clock.now())
    after = {d.id: d for d in await _deliveries(db, run.crisis_id)}
    assert {after[i].status for i in waiting} == {"cancelled"}
    told = [d for d in after.values() if d.id not in waiting]
    assert {d.contact_id for d in told} == set(people)
    assert {d.status for d in told} == {"pending"} and {d.audience for d in told} == {"exercise"}
    async with db.read() as session:
        entry = (
            await session.exec(
                select(JournalEntry).where(JournalEntry.action == "exercise.stopped")
            )
        ).one()
        stopped = await session.get(DrillRun, run.id)
        crisis = await session.get(Crisis, run.crisis_id)
    assert entry.actor == "prefet" and "Crue réelle en cours" in entry.payload
    assert stopped is not None and stopped.status == RunStatus.STOPPED
    assert crisis is not None and crisis.status == "closed"


async def test_stop_needs_a_reason_a_running_run_and_the_trainer_or_prefect_role(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        drill = await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(days=1))
    run = await _launch(db, clock, drill.id)
    assert drill.id is not None and run.id is not None
    cases = [
        (COMMUNICATOR, "Fausse alerte", Forbidden),
        (TRAINER, "  ", DrillRefused),
    ]
    for actor, reason, error in cases:
        with pytest.raises(error):
            await stop(db, run, actor=actor, reason=reason, now=clock.now())
    await stop(db, run, actor=TRAINER, reason="Fin anticipée", now=clock.now())
    with pytest.raises(DrillConflict):
        await stop(db, run, actor=TRAINER, reason="Encore", now=clock.now())


async def test_a_crisis_drill_pages_its_participants_under_their_exercise_duty_role_only(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        validator = await add_on_call(
            session,
            name="Valentin Joueur",
            role="validator",
            level=1,
            now=clock.now(),
            audience="exercise",
        )
        bystander = await add_contact(
            session, name="Bernard Spectateur", audience="exercise", now=clock.now()
        )
        player = (await participants(session, now=clock.now(), count=1))[0]
        drill = await plan(
            session,
            now=clock.now(),
            people=[validator, player],
            starts_at=clock.now() + timedelta(days=1),
        )
    run = await _launch(db, clock, drill.id)
    assert run.crisis_id is not None
    async with db.read() as session:
        pages = await paging.pages_of(session, crisis_id=run.crisis_id)
    assert sorted((p.contact_id, p.duty_role) for p in pages) == sorted(
        [(validator, "validator"), (player, "communication")]
    )
    assert bystander not in {d.contact_id for d in await _deliveries(db, run.crisis_id)}
