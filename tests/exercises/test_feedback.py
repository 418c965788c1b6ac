"""The end message's three-question feedback: one signed, single-use link per participant,
its answers stored once and shown in the run's report (anonymous)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from crisis.app.db import Database
from crisis.dispatch.outbox import Delivery, OutboxMessage
from crisis.errors import NotFound
from crisis.journal import JournalEntry
from exercises import feedback, launching, views
from exercises.errors import DrillConflict, DrillRefused
from exercises.feedback import Feedback
from exercises.programme import DrillRun
from tests.exercises.support import LAUNCH, PREFECT, TRAINER, participants, plan, stop
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio
SECRET = LAUNCH.feedback_secret or ""
LINK = re.compile(r"/retour-exercice/(\S+)")


async def _ended_run(db: Database, clock: FrozenClock, count: int = 2) -> DrillRun:
    async with db.transaction() as session:
        people = await participants(session, now=clock.now(), count=count)
        drill = await plan(
            session, now=clock.now(), people=people, starts_at=clock.now() + timedelta(days=1)
        )
        assert drill.id is not None
        run = await launching.launch_now(
            session, actor=TRAINER, drill_id=drill.id, rules=LAUNCH, now=clock.now()
        )
    clock.advance(minutes=50)
    return await stop(db, run, reason="Fin du scénario", now=clock.now())


async def _end_texts(db: Database, run: DrillRun) -> dict[int, str]:
    """Each participant's end message (contact id: text)."""
    async with db.read() as session:
        query = (
            select(Delivery.contact_id, OutboxMessage.text)
            .join(OutboxMessage, col(OutboxMessage.id) == Delivery.message_id)
            .where(Delivery.crisis_id == run.crisis_id, col(OutboxMessage.text).contains("/retour"))
        )
        return {cid: text for cid, text in (await session.exec(query)).all() if cid}


async def _answer(db: Database, clock: FrozenClock, token: str, **given: object) -> Feedback:
    values: dict[str, object] = {"rating": 4, "went_well": "", "to_improve": ""} | given
    async with db.transaction() as session:
        return await feedback.answer(
            session,
            token=token,
            secret=SECRET,
            now=clock.now(),
            **values,  # type: ignore[arg-type]
        )


async def test_each_participant_gets_their_own_link_to_the_form_with_the_end_message(
    db: Database, clock: FrozenClock
) -> None:
    run = await _ended_run(db, clock, count=3)
    texts = await _end_texts(db, run)
    assert len(texts) == 3
    assert all("EXERCICE" in t and "trois questions" in t for t in texts.values())
    tokens = {cid: LINK.search(t).group(1) for cid, t in texts.items()}  # type: ignore[union-attr]
    assert len(set(tokens.values())) == 3
    async with db.read() as session:
        rows = (await session.exec(select(Feedback))).all()
        opened = await feedback.opened(session, token=next(iter(tokens.values())), secret=SECRET)
    assert sorted(r.contact_id for r in rows) == sorted(texts)
    assert opened.title == "Exercice crue de printemps" and not opened.answered


async def test_the_form_is_answered_once_and_its_answers_feed_the_report(
    db: Database, clock: FrozenClock
) -> None:
    run = await _ended_run(db, clock)
    first, second = (LINK.search(t).group(1) for t in (await _end_texts(db, run)).values())  # type: ignore[union-attr]
    clock.advance(hours=2)
    await _answer(db, clock, first, rating=5, went_well="Alerte rapide", to_improve="Annuaire")
    with pytest.raises(DrillConflict) as again:
        await _answer(db, clock, first, rating=1, went_well="Autre chose")
    assert again.value.code == "feedback_used"
    await _answer(db, clock, second, rating=2)
    assert run.id is not None
    async with db.read() as session:
        report = await views.report(
            session, actor=PREFECT, drill_id=run.drill_id, run_id=run.id, now=clock.now()
        )
        journaled = (
            await session.exec(
                select(JournalEntry).where(JournalEntry.action == "exercise.feedback")
            )
        ).all()
    shown = report["feedback"]
    assert (shown["asked"], shown["answered"], shown["mean_rating"]) == (2, 2, 3.5)
    assert shown["answers"][0] == {
        "answered_at": clock.now().isoformat(),
        "rating": 5,
        "went_well": "Alerte rapide",
        "to_improve": "Annuaire",
    }
    assert len(journaled) == 2 and {e.crisis_id for e in journaled} == {run.crisis_id}


async def test_a_bad_answer_or_a_forged_link_is_refused_and_writes_nothing(
    db: Database, clock: FrozenClock
) -> None:
    run = await _ended_run(db, clock, count=1)
    [token] = (LINK.search(t).group(1) for t in (await _end_texts(db, run)).values())  # type: ignore[union-attr]
    with pytest.raises(DrillRefused):
        await _answer(db, clock, token, rating=9)
    with pytest.raises(DrillRefused):
        await _answer(db, clock, token, went_well="x" * (feedback.MAX_TEXT + 1))
    with pytest.raises(NotFound):
        await _answer(db, clock, token[:-2] + "xx")
    with pytest.raises(NotFound):
        await _answer(db, clock, feedback.token_for(9999, secret=SECRET))
    async with db.read() as session:
        row = (await session.exec(select(Feedback))).one()
    assert row.answered_at is None and row.rating is None
