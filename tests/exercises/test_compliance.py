"""ES49 cadence: per kind, the last run, the next one, overdue when none within the target."""

from __future__ import annotations

import httpx

from crisis.app.db import Database
from exercises import compliance, launching
from exercises.programme import DrillKind
from tests.exercises.support import LAUNCH, TRAINER, plan
from tests.support import FrozenClock, make_user


async def _status(db: Database, clock: FrozenClock) -> dict[str, compliance.KindStatus]:
    async with db.read() as session:
        found = await compliance.status(session, now=clock.now(), cadence_days={"on_call": 30})
    return {k.kind: k for k in found}


async def test_a_kind_is_overdue_until_a_run_is_held_and_again_once_its_cadence_has_passed(
    db: Database, clock: FrozenClock
) -> None:
    assert {k: s.overdue for k, s in (await _status(db, clock)).items()} == {
        "crisis": True,
        "on_call": True,
    }
    async with db.transaction() as session:
        drill = await plan(
            session,
            now=clock.now(),
            kind=DrillKind.ON_CALL,
            people=[],
            rrule="FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9",
        )
        assert drill.id is not None
        await launching.launch_now(
            session, actor=TRAINER, drill_id=drill.id, rules=LAUNCH, now=clock.now()
        )
    on_call = (await _status(db, clock))["on_call"]
    assert not on_call.overdue and on_call.last_run_at == clock.now()
    assert on_call.next_run_at == drill.next_run_at and on_call.cadence_days == 30
    assert (await _status(db, clock))["crisis"].overdue
    clock.advance(days=30, seconds=1)
    assert (await _status(db, clock))["on_call"].overdue


async def test_the_dashboard_shows_the_cadence_to_trainers_and_not_to_communicators(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    com = await make_user(db, clock, "com", "communicator")
    shown = await client.get("/", headers=trainer.headers)
    hidden = await client.get("/", headers=com.headers)
    assert "Régularité des exercices (ES49)" in shown.text and "en retard" in shown.text
    assert "Régularité des exercices" not in hidden.text
