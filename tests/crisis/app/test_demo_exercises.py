"""The demo's programme: an on-call test that launches by itself two minutes after start,
a yearly crisis exercise, a reachability test awaiting the prefect, and a crisis exercise
already played with its injects and finished, whose report shows them."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlmodel import select

from channels.sandbox import Sandbox
from crisis import directory, paged_answers
from crisis.actors import SYSTEM
from crisis.app import bootstrap, demo_exercises
from crisis.app.db import Database
from crisis.app.demo_channels import with_sandbox
from crisis.app.dispatch import confirmation_links, dispatcher_from_config
from crisis.app.exercise_tick import exercise_tick
from crisis.app.settings import Settings
from crisis.cell import paging
from exercises import views
from exercises.programme import Drill, DrillRun, RunStatus
from tests.support import FrozenClock


async def test_the_demo_plans_one_drill_of_each_kind_and_its_on_call_test_launches_by_itself(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await directory.load_demo(session, now=clock.now())
    drill_id = await demo_exercises.plan_once(db, settings, now=clock.now())
    assert drill_id is not None
    assert await demo_exercises.plan_once(db, settings, now=clock.now()) is None
    async with db.read() as session:
        drills = {d.title: d for d in (await session.exec(select(Drill))).all()}
        runs = (await session.exec(select(DrillRun))).all()
    assert {d.kind for d in drills.values()} == {"crisis", "on_call", "reachability"}
    assert drills[demo_exercises.REACH_TITLE].approved_by is None  # the prefect approves it
    assert [(r.drill_id, r.status) for r in runs] == [
        (drills[demo_exercises.PLAYED_TITLE].id, RunStatus.ENDED)
    ]
    tick = exercise_tick(db, settings)
    await tick(clock.advance(minutes=1, seconds=55))
    await tick(clock.advance(seconds=5))
    async with db.read() as session:
        query = select(DrillRun).where(DrillRun.drill_id == drill_id)
        [run] = (await session.exec(query)).all()
        assert run.crisis_id is not None
        pages = await paging.pages_of(session, crisis_id=run.crisis_id)
    assert run.status == RunStatus.RUNNING and not run.late
    assert run.launched_at == drills[demo_exercises.ON_CALL_TITLE].next_run_at
    assert pages  # the demo roster is paged, in the exercise lane
    assert clock.now() - run.launched_at < timedelta(seconds=1)


async def test_the_demos_finished_exercise_reports_its_injects_reactions_and_answers(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    await bootstrap.demo_users(db, clock)
    async with db.transaction() as session:
        await directory.load_demo(session, now=clock.now())
    await demo_exercises.plan_once(db, settings, now=clock.now())
    async with db.read() as session:
        played = (
            await session.exec(select(Drill).where(Drill.title == demo_exercises.PLAYED_TITLE))
        ).one()
        assert played.id is not None
        [run] = (await session.exec(select(DrillRun).where(DrillRun.drill_id == played.id))).all()
        assert run.id is not None and run.launched_at is not None
        report = await views.report(
            session, actor=SYSTEM, drill_id=played.id, run_id=run.id, now=clock.now()
        )
    start = run.launched_at
    mayor, media, public = report["injects"]
    assert mayor["played_at"] == (start + timedelta(minutes=5)).isoformat()
    assert mayor["released_by"] is None and mayor["reaction"] == "done"
    assert mayor["done_by"] == "formateur"
    assert mayor["done_at"] == (start + timedelta(minutes=12)).isoformat()
    assert media["released_by"] == "formateur" and media["done_at"] is None
    assert media["played_at"] == (start + timedelta(minutes=15)).isoformat()
    assert public["played_at"] == (start + timedelta(minutes=45)).isoformat()
    assert all(line["deliveries"] > 0 for line in report["injects"])
    answered = [a for a in report["answers"] if a["answered_at"]]
    assert [a["answer_seconds"] for a in answered] == [240, 540]
    assert report["run"]["status"] == RunStatus.ENDED


async def test_in_the_demo_the_on_call_tests_pages_reach_the_sandbox_and_an_answer_is_timed(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    """The issue's « Done when »: the on-call test launches by itself, the sandbox shows its
    pages, and the answer of a paged person (following the link the sandbox shows) appears
    with its time in the report."""
    await bootstrap.demo_users(db, clock)
    async with db.transaction() as session:
        await directory.load_demo(session, now=clock.now())
    async with Sandbox() as sandbox:
        configured = with_sandbox(settings, sandbox)
        drill_id = await demo_exercises.plan_once(db, configured, now=clock.now())
        assert drill_id is not None
        await exercise_tick(db, configured)(clock.advance(minutes=2))
        worker = dispatcher_from_config(
            db=db, channels=configured.channels, exercise_channels=configured.exercise_channels,
            rng=random.Random(3), personalise=confirmation_links(configured),
        )  # fmt: skip
        await worker.run(clock.now())
        await worker.aclose()
        fakes = (sandbox.smtp, sandbox.sms, sandbox.telegram)
        shown = [m.text for f in fakes for m in f.state.received]
    async with db.read() as session:
        [run] = (await session.exec(select(DrillRun).where(DrillRun.drill_id == drill_id))).all()
        assert run.id is not None and run.crisis_id is not None
        paged = {p.token_digest for p in await paging.pages_of(session, crisis_id=run.crisis_id)}
    tokens = [t.split()[0] for text in shown for t in text.split("/acquitter/")[1:]]
    mine = [t for t in tokens if paging.token_digest(t) in paged]
    assert len(mine) == len(paged) > 0  # every page of the test is in the sandbox
    clock.advance(minutes=3)
    async with db.transaction() as session:
        await paged_answers.acknowledge_link(session, token=mine[0], now=clock.now())
    async with db.read() as session:
        report = await views.report(
            session, actor=SYSTEM, drill_id=drill_id, run_id=run.id, now=clock.now()
        )
    [answered] = [a for a in report["answers"] if a["answered_at"]]
    assert answered["answer_seconds"] == 180
    assert answered["answered_at"] == clock.now().isoformat()
