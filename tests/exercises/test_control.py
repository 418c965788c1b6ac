"""The trainer's live control view of a run (issue 19, item 8): clocks, injects with their
state, who was paged and who answered (the silent ones first); trainers and the prefect only."""

from __future__ import annotations

import pytest
from sqlmodel import select

from crisis import paged_answers
from crisis.actors import Actor, Role
from crisis.app.db import Database
from crisis.cell.paging import CellPage
from crisis.errors import Forbidden, NotFound
from exercises import control
from exercises.injects import InjectSpec
from tests.exercises.inject_support import launched_with, release
from tests.exercises.support import PREFECT, TRAINER
from tests.support import FrozenClock

CALL = InjectSpec(
    offset_min=30,
    audience="officials",
    text="Le maire d'Amiens demande s'il faut évacuer",
    expected_action="Rappeler le maire",
    deadline_min=10,
)
LATER = InjectSpec(offset_min=50, audience="media", text="France Bleu demande une interview")
OPERATOR = Actor(9, "operatrice", frozenset({Role.OPERATOR}))


async def test_the_control_view_shows_the_injects_released_and_due_and_who_answered(
    db: Database, clock: FrozenClock
) -> None:
    drill = await launched_with(db, clock, CALL, LATER, people=2)
    assert drill.run.id is not None
    clock.advance(minutes=3)
    await release(db, clock, drill)
    async with db.read() as session:
        first = (await session.exec(select(CellPage).order_by(CellPage.id))).first()
        assert first is not None and first.id is not None
    clock.advance(minutes=2)
    async with db.transaction() as session:
        await paged_answers.acknowledge_reply(session, page_id=first.id, now=clock.now())
    async with db.read() as session:
        seen = await control.of_run(
            session, actor=TRAINER, drill_id=drill.drill_id, run_id=drill.run.id, now=clock.now()
        )
    assert seen.running
    assert [c.code for c in seen.clocks][:1] == ["ES47"]
    released, due = seen.injects
    assert released["released_by"] == "formatrice" and released["played_at"] is not None
    assert released["reaction"] == "waiting" and released["deadline"] is not None
    assert due["played_at"] is None and due["due_at"] is not None
    assert [i["inject_id"] for i in seen.pending] == [drill.inject_ids[1]]
    assert len(seen.answers) == 2 and len(seen.silent) == 1
    assert seen.answers[0]["answered_at"] is None  # who has not answered comes first
    assert seen.answers[1]["name"] == first.name and seen.answers[1]["answer_seconds"] == 300
    assert sum(f["answered"] for f in seen.by_role) == 1


async def test_the_prefect_may_watch_a_run_and_an_operator_may_not(
    db: Database, clock: FrozenClock
) -> None:
    drill = await launched_with(db, clock, CALL, people=1)
    assert drill.run.id is not None
    async with db.read() as session:
        crisis_id = await control.crisis_of(
            session, actor=PREFECT, drill_id=drill.drill_id, run_id=drill.run.id
        )
        assert crisis_id == drill.run.crisis_id
        with pytest.raises(Forbidden):
            await control.of_run(
                session,
                actor=OPERATOR,
                drill_id=drill.drill_id,
                run_id=drill.run.id,
                now=clock.now(),
            )
        with pytest.raises(NotFound):
            await control.crisis_of(
                session, actor=TRAINER, drill_id=drill.drill_id, run_id=drill.run.id + 99
            )
