"""A crisis drill takes its playbook's ready-made scenario (the flood playbook carries one):
each inject added as a trainer adds one; never twice, never over injects already written."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.journal import JournalEntry
from exercises import scenarios
from exercises.errors import DrillConflict, DrillRefused
from exercises.injects import Inject
from exercises.programme import Drill, DrillKind
from tests.crisis.app.web_session import csrf_of, log_in
from tests.exercises.support import TRAINER, plan
from tests.support import FrozenClock, make_user

pytestmark = pytest.mark.asyncio


async def _take(db: Database, clock: FrozenClock, drill: Drill) -> list[Inject]:
    assert drill.id is not None
    async with db.transaction() as session:
        return await scenarios.take(
            session, actor=TRAINER, drill_id=drill.id, playbooks=playbook_library(), now=clock.now()
        )


async def test_a_flood_drill_takes_the_playbooks_scenario_once(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        drill = await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(days=1))
    taken = await _take(db, clock, drill)
    expected = playbook_library()["crue"].scenario
    assert [(i.offset_min, i.audience, i.text) for i in taken] == [
        (s.offset_min, s.audience, s.text) for s in expected
    ]
    assert taken[1].expected_kind == "first_officials_bulletin" and taken[1].deadline_min == 45
    async with db.read() as session:
        actions = (await session.exec(select(JournalEntry.action))).all()
    assert actions.count("exercise.inject_added") == len(expected)
    with pytest.raises(DrillConflict) as again:
        await _take(db, clock, drill)
    assert again.value.code == "scenario_not_empty"


async def test_an_on_call_test_has_no_scenario_to_take(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        drill = await plan(
            session,
            now=clock.now(),
            kind=DrillKind.ON_CALL,
            starts_at=clock.now() + timedelta(days=1),
        )
    with pytest.raises(DrillRefused) as refused:
        await _take(db, clock, drill)
    assert refused.value.code == "no_playbook_scenario"
    async with db.read() as session:
        assert (await session.exec(select(Inject))).all() == []


async def test_the_api_and_the_drill_page_take_the_scenario(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer = await make_user(db, clock, TRAINER.login, "trainer")
    async with db.transaction() as session:
        first = await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(days=1))
        second = await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(days=2))
    url = f"/api/v1/exercises/{first.id}/injects/scenario"
    taken = await client.post(url, headers=trainer.headers)
    assert taken.status_code == 201, taken.text
    assert len(taken.json()["items"]) == len(playbook_library()["crue"].scenario)
    again = await client.post(url, headers=trainer.headers)
    assert again.status_code == 409
    await log_in(client, trainer.login, trainer.password)
    page = await client.get(f"/exercices/{second.id}")
    assert "Reprendre le scénario de la fiche réflexe" in page.text
    sent = await client.post(
        f"/exercices/{second.id}/scenario", data={"csrf_token": csrf_of(page.text)}
    )
    assert sent.status_code == 303
    shown = await client.get(f"/exercices/{second.id}")
    assert "Scénario de la fiche réflexe repris" in shown.text
    assert "Reprendre le scénario de la fiche réflexe" not in shown.text
