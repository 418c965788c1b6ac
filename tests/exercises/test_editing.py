"""A trainer changes or removes a planned drill: the plan's checks apply again, a run under way
keeps what it uses, a drill that ran is archived, a reachability test is approved again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.errors import Forbidden
from crisis.journal import JournalEntry
from exercises import approval, editing, launching, programme
from exercises.editing import DrillChanges
from exercises.errors import DrillConflict, DrillRefused
from exercises.injects import Inject
from exercises.programme import Drill, DrillKind, DrillRun, DrillSpec
from tests.crisis.lifecycle_support import add_contact
from tests.exercises.support import LAUNCH, PREFECT, TRAINER, crisis_drill_body, participants, plan
from tests.exercises.support import stop as stop_run
from tests.support import FrozenClock, make_user

pytestmark = pytest.mark.asyncio


async def _planned(db: Database, clock: FrozenClock) -> Drill:
    async with db.transaction() as session:
        return await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(days=2))


async def _change(db: Database, clock: FrozenClock, drill: Drill, **changes: object) -> Drill:
    assert drill.id is not None
    async with db.transaction() as session:
        return await editing.change(
            session,
            actor=TRAINER,
            drill_id=drill.id,
            changes=DrillChanges(**changes),  # type: ignore[arg-type]
            playbooks=playbook_library(),
            now=clock.now(),
        )


async def _launch(db: Database, clock: FrozenClock, drill: Drill) -> DrillRun:
    assert drill.id is not None
    async with db.transaction() as session:
        return await launching.launch_now(
            session, actor=TRAINER, drill_id=drill.id, rules=LAUNCH, now=clock.now()
        )


async def _remove(db: Database, clock: FrozenClock, drill: Drill) -> str:
    assert drill.id is not None
    async with db.transaction() as session:
        return await editing.remove(session, actor=TRAINER, drill_id=drill.id, now=clock.now())


async def _stored(db: Database, drill: Drill) -> Drill | None:
    async with db.read() as session:
        return await session.get(Drill, drill.id)


async def _actions(db: Database) -> list[str]:
    async with db.read() as session:
        return list((await session.exec(select(JournalEntry.action))).all())


async def test_a_trainer_changes_title_schedule_and_participants_and_it_is_journaled(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _planned(db, clock)
    async with db.transaction() as session:
        [newcomer] = await participants(session, now=clock.now(), count=1)
    changed = await _change(
        db,
        clock,
        drill,
        title="  Crue   d'automne ",
        rrule="FREQ=MONTHLY;BYDAY=1TU;BYHOUR=9",
        participants=[newcomer],
        confirm_first=True,
    )
    stored = await _stored(db, drill)
    assert stored is not None and stored.title == "Crue d'automne"
    assert stored.starts_at is None and stored.rrule == "FREQ=MONTHLY;BYDAY=1TU;BYHOUR=9"
    assert stored.next_run_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert stored.participants == [newcomer] and stored.confirm_first
    assert changed.next_run_at == stored.next_run_at
    assert "exercise.changed" in await _actions(db)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"starts_at": datetime(2026, 11, 28, 13, 0, tzinfo=UTC)}, "starts_at_in_past"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule_too_frequent"),
        ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule_never_fires"),
        ({"rrule": "FREQ=DAILY;UNTIL=20200101T000000"}, "rrule_never_fires"),
        ({"title": " a "}, "invalid_title"),
        ({"participants": []}, "no_exercise_participant"),
        ({"playbook": "inconnue"}, "unknown_playbook"),
        ({"communes": ["99999"]}, "unknown_communes"),
        ({}, "nothing_to_change"),
    ],
)
async def test_a_bad_change_is_refused_with_its_reason_and_nothing_changes(
    db: Database, clock: FrozenClock, changes: dict[str, object], code: str
) -> None:
    drill = await _planned(db, clock)
    with pytest.raises(DrillRefused) as refused:
        await _change(db, clock, drill, **changes)
    assert refused.value.code == code and refused.value.status == 422
    stored = await _stored(db, drill)
    assert stored is not None and stored.model_dump() == drill.model_dump()
    assert "exercise.changed" not in await _actions(db)


async def test_a_real_contact_cannot_be_made_a_participant_by_an_edit(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _planned(db, clock)
    async with db.transaction() as session:
        mayor = await add_contact(session, name="Anne Maire", audience="officials", now=clock.now())
    with pytest.raises(DrillRefused) as refused:
        await _change(db, clock, drill, participants=[mayor])
    assert refused.value.code == "participant_not_exercise"


async def test_during_a_run_what_it_uses_is_kept_but_the_title_may_change(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _planned(db, clock)
    run = await _launch(db, clock, drill)
    for changes in ({"communes": ["80001"]}, {"participants": drill.participants[:1]}):
        with pytest.raises(DrillConflict) as refused:
            await _change(db, clock, drill, **changes)
        assert refused.value.code == "drill_running" and refused.value.status == 409
    await _change(db, clock, drill, title="Crue renommée")
    with pytest.raises(DrillConflict) as kept:
        await _remove(db, clock, drill)
    assert kept.value.code == "drill_running"
    await stop_run(db, run, reason="fin", now=clock.now())
    assert await _remove(db, clock, drill) == "archived"


async def test_a_drill_that_never_ran_is_deleted_with_its_injects(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _planned(db, clock)
    async with db.transaction() as session:
        session.add(
            Inject(
                drill_id=drill.id or 0,
                offset_min=5,
                audience="officials",
                text="La crue monte.",
                created_at=clock.now(),
                created_by=TRAINER.login,
            )
        )
    assert await _remove(db, clock, drill) == "deleted"
    assert await _stored(db, drill) is None
    async with db.read() as session:
        assert (await session.exec(select(Inject))).all() == []
    assert "exercise.deleted" in await _actions(db)


async def test_a_drill_that_ran_is_archived_out_of_the_programme_and_no_longer_launches(
    db: Database, clock: FrozenClock
) -> None:
    drill = await _planned(db, clock)
    run = await _launch(db, clock, drill)
    await stop_run(db, run, reason="fin", now=clock.now())
    assert await _remove(db, clock, drill) == "archived"
    stored = await _stored(db, drill)
    assert stored is not None and stored.archived_at == clock.now() and stored.next_run_at is None
    async with db.read() as session:
        assert await programme.listing(session) == []
    with pytest.raises(DrillConflict) as again:
        await _change(db, clock, drill, title="Encore")
    assert again.value.code == "drill_archived"
    with pytest.raises(DrillConflict):
        await _launch(db, clock, drill)
    assert "exercise.archived" in await _actions(db)


async def test_only_a_trainer_changes_or_removes_a_drill(db: Database, clock: FrozenClock) -> None:
    drill = await _planned(db, clock)
    assert drill.id is not None
    async with db.transaction() as session:
        with pytest.raises(Forbidden):
            await editing.remove(session, actor=PREFECT, drill_id=drill.id, now=clock.now())


async def test_a_reachability_test_whose_officials_change_awaits_the_prefect_again(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        mayors = [
            await add_contact(session, name=f"Élu{i} Maire", audience="officials", now=clock.now())
            for i in range(3)
        ]
        spec = DrillSpec(
            title="Joignabilité des maires",
            kind=DrillKind.REACHABILITY,
            participants=mayors[:2],
            starts_at=clock.now() + timedelta(days=1),
        )
        drill = await programme.create(
            session, actor=TRAINER, spec=spec, playbooks={}, now=clock.now()
        )
        assert drill.id is not None
        await approval.approve(session, actor=PREFECT, drill_id=drill.id, now=clock.now())
    same = await _change(db, clock, drill, title="Joignabilité des maires (bis)")
    assert not same.awaiting_approval
    changed = await _change(db, clock, drill, participants=mayors)
    assert changed.awaiting_approval and changed.approved_by is None


async def test_the_api_patches_and_deletes_a_drill_and_refuses_bad_input(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    async with db.transaction() as session:
        people = await participants(session, now=clock.now())
    created = await client.post(
        "/api/v1/exercises", json=crisis_drill_body(people), headers=trainer.headers
    )
    drill_id = created.json()["id"]
    url = f"/api/v1/exercises/{drill_id}"
    patched = await client.patch(
        url, json={"title": "Crue du printemps", "confirm_first": True}, headers=trainer.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Crue du printemps" and patched.json()["confirm_first"]
    assert patched.json()["rrule"] == crisis_drill_body(people)["rrule"]
    past = (clock.now() - timedelta(hours=1)).isoformat()
    refused = await client.patch(url, json={"starts_at": past}, headers=trainer.headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "starts_at_in_past"
    hourly = await client.patch(url, json={"rrule": "FREQ=MINUTELY"}, headers=trainer.headers)
    assert hourly.status_code == 422
    unknown = await client.patch(url, json={"colour": "rouge"}, headers=trainer.headers)
    assert unknown.status_code == 422
    removed = await client.delete(url, headers=trainer.headers)
    assert removed.status_code == 200 and removed.json()["outcome"] == "deleted"
    gone = await client.delete(url, headers=trainer.headers)
    assert gone.status_code == 404
