"""« Ask the trainer first »: at its instant the drill waits; its planner is asked, a
trainer's confirmation launches it, and nobody's silence launches it past the window."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from crisis.app.db import Database
from crisis.cell.crises import Crisis
from crisis.dispatch.outbox import Delivery, OutboxMessage
from crisis.errors import Forbidden
from crisis.journal import JournalEntry
from crisis.users import User
from exercises import asking, ending, launching
from exercises.errors import DrillConflict
from exercises.programme import Drill, DrillRun, RunStatus
from tests.crisis.app.web_session import csrf_of, log_in
from tests.exercises.support import LAUNCH, PREFECT, TRAINER, plan
from tests.support import FrozenClock, make_user

pytestmark = pytest.mark.asyncio


async def _planned(db: Database, clock: FrozenClock) -> tuple[Drill, str]:
    """A drill planned « ask me first » by a trainer with an e-mail: (it, their password)."""
    planner = await make_user(db, clock, TRAINER.login, "trainer")
    async with db.transaction() as session:
        user = await session.get(User, planner.id)
        assert user is not None
        user.email = "formatrice@somme.gouv.fr"
        session.add(user)
        drill = await plan(
            session,
            now=clock.now(),
            starts_at=clock.now() + timedelta(minutes=10),
            confirm_first=True,
        )
    return drill, planner.password


async def _tick(db: Database, clock: FrozenClock) -> list[DrillRun]:
    async with db.transaction() as session:
        runs = await launching.launch_due(session, rules=LAUNCH, now=clock.now())
    async with db.transaction() as session:
        await ending.end_finished(session, rules=LAUNCH, now=clock.now())
    return runs


async def _confirm(db: Database, clock: FrozenClock, run: DrillRun) -> DrillRun:
    assert run.id is not None
    async with db.transaction() as session:
        return await launching.confirm(
            session,
            actor=TRAINER,
            drill_id=run.drill_id,
            run_id=run.id,
            rules=LAUNCH,
            now=clock.now(),
        )


async def _texts(db: Database) -> list[tuple[str, str]]:
    async with db.read() as session:
        query = select(Delivery.address, OutboxMessage.text).join(
            OutboxMessage, col(OutboxMessage.id) == Delivery.message_id
        )
        return [(a, t) for a, t in (await session.exec(query)).all()]


async def test_at_its_instant_the_drill_waits_and_only_its_planner_is_asked(
    db: Database, clock: FrozenClock
) -> None:
    drill, _ = await _planned(db, clock)
    clock.advance(minutes=10)
    [run] = await _tick(db, clock)
    assert run.status == RunStatus.AWAITING and run.crisis_id is None
    texts = await _texts(db)
    assert len(texts) == 1 and texts[0][0] == "formatrice@somme.gouv.fr"
    assert "attend votre confirmation" in texts[0][1] and f"/exercices/{drill.id}" in texts[0][1]
    async with db.read() as session:
        crises = (await session.exec(select(Crisis))).all()
        actions = (await session.exec(select(JournalEntry.action))).all()
    assert crises == [] and "exercise.confirmation_asked" in actions
    clock.advance(minutes=1)
    assert await _tick(db, clock) == []  # asked once


async def test_a_trainers_confirmation_launches_it_once_with_the_start_message(
    db: Database, clock: FrozenClock
) -> None:
    await _planned(db, clock)
    clock.advance(minutes=10)
    [run] = await _tick(db, clock)
    clock.advance(minutes=7)
    launched = await _confirm(db, clock, run)
    assert (launched.id, launched.status) == (run.id, RunStatus.RUNNING)
    assert launched.crisis_id is not None and launched.launched_by == TRAINER.login
    assert launched.late and launched.launched_at == clock.now()
    assert sum("Début d'exercice" in t for _, t in await _texts(db)) == 2  # both participants
    with pytest.raises(DrillConflict) as again:
        await _confirm(db, clock, run)
    assert again.value.code == "run_not_awaiting"


async def test_a_run_nobody_confirmed_is_written_missed_past_the_window(
    db: Database, clock: FrozenClock
) -> None:
    await _planned(db, clock)
    clock.advance(minutes=10)
    [run] = await _tick(db, clock)
    clock.advance(hours=5, minutes=59)
    await _tick(db, clock)
    clock.advance(minutes=2)
    await _tick(db, clock)
    async with db.read() as session:
        found = await session.get(DrillRun, run.id)
        crises = (await session.exec(select(Crisis))).all()
    assert found is not None and found.status == RunStatus.MISSED and crises == []
    assert found.stop_reason == "non confirmé par le formateur à temps"
    with pytest.raises(DrillConflict):
        await _confirm(db, clock, run)


async def test_the_drill_page_offers_the_confirm_button_and_it_launches(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    drill, password = await _planned(db, clock)
    clock.advance(minutes=10)
    [run] = await _tick(db, clock)
    await log_in(client, TRAINER.login, password)
    page = await client.get(f"/exercices/{drill.id}")
    assert "Confirmer le lancement" in page.text and "rien n'est parti" in page.text
    sent = await client.post(
        f"/exercices/{drill.id}/seances/{run.id}/confirmer", data={"csrf_token": csrf_of(page.text)}
    )
    assert sent.status_code == 303, sent.text
    async with db.read() as session:
        found = await session.get(DrillRun, run.id)
    assert found is not None and found.status == RunStatus.RUNNING


async def _decline(
    db: Database, clock: FrozenClock, run: DrillRun, *, reason: str = ""
) -> DrillRun:
    assert run.id is not None
    async with db.transaction() as session:
        return await asking.decline(
            session,
            actor=TRAINER,
            drill_id=run.drill_id,
            run_id=run.id,
            reason=reason,
            now=clock.now(),
        )


async def test_a_declined_run_is_cancelled_sends_nothing_and_the_next_occurrence_stays(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        drill = await plan(
            session,
            now=clock.now(),
            rrule="FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
            confirm_first=True,
        )
    assert drill.next_run_at is not None
    clock.current = drill.next_run_at
    [run] = await _tick(db, clock)
    before = await _texts(db)
    cancelled = await _decline(db, clock, run, reason="  salle  indisponible ")
    assert (cancelled.status, cancelled.stop_reason) == (RunStatus.CANCELLED, "salle indisponible")
    assert cancelled.ended_by == TRAINER.login and cancelled.crisis_id is None
    async with db.read() as session:
        found = await session.get(Drill, drill.id)
        crises = (await session.exec(select(Crisis))).all()
        entries = (await session.exec(select(JournalEntry))).all()
    assert found is not None and found.next_run_at == run.occurrence_at + timedelta(days=1)
    assert crises == [] and await _texts(db) == before
    [entry] = [e for e in entries if e.action == "exercise.run_cancelled"]
    assert entry.actor == TRAINER.login and "salle indisponible" in entry.payload
    with pytest.raises(DrillConflict) as again:
        await _confirm(db, clock, run)
    assert again.value.code == "run_not_awaiting"
    with pytest.raises(DrillConflict):
        await _decline(db, clock, run)


async def test_a_running_run_cannot_be_declined_nor_can_a_prefect_decline(
    db: Database, clock: FrozenClock
) -> None:
    await _planned(db, clock)
    clock.advance(minutes=10)
    [run] = await _tick(db, clock)
    assert run.id is not None
    async with db.transaction() as session:
        with pytest.raises(Forbidden):
            await asking.decline(
                session, actor=PREFECT, drill_id=run.drill_id, run_id=run.id, now=clock.now()
            )
    await _confirm(db, clock, run)
    with pytest.raises(DrillConflict):
        await _decline(db, clock, run)


async def test_the_api_cancels_an_awaiting_run_and_refuses_a_second_time(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    drill, _ = await _planned(db, clock)
    colleague = await make_user(db, clock, "formateur2", "trainer")
    clock.advance(minutes=10)
    [run] = await _tick(db, clock)
    url = f"/api/v1/exercises/{drill.id}/runs/{run.id}/cancel"
    done = await client.post(url, json={"reason": "jour férié"}, headers=colleague.headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "cancelled" and done.json()["stop_reason"] == "jour férié"
    again = await client.post(url, json={}, headers=colleague.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "run_not_awaiting"
    other = await client.post(
        f"/api/v1/exercises/{drill.id}/runs/{(run.id or 0) + 99}/cancel",
        json={},
        headers=colleague.headers,
    )
    assert other.status_code == 404


async def test_the_drill_page_offers_to_cancel_the_awaiting_run(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    drill, password = await _planned(db, clock)
    clock.advance(minutes=10)
    [run] = await _tick(db, clock)
    await log_in(client, TRAINER.login, password)
    page = await client.get(f"/exercices/{drill.id}")
    assert "Annuler cette séance" in page.text
    sent = await client.post(
        f"/exercices/{drill.id}/seances/{run.id}/annuler",
        data={"csrf_token": csrf_of(page.text), "reason": "réunion"},
    )
    assert sent.status_code == 303, sent.text
    shown = await client.get(f"/exercices/{drill.id}")
    assert "Annulé par le formateur" in shown.text and "Annuler cette séance" not in shown.text
