"""A crisis drill's injects: played once at their offsets by the tick, or released by hand;
paused and resumed (offsets shift by the time paused); reactions marked done by the trainer
or by Tocsin (first bulletin to officials); the scenario refused in French when wrong."""

from __future__ import annotations

import asyncio
import io

import pytest
from pypdf import PdfReader
from sqlmodel import func, select

from crisis.app import exercise_report_pdf
from crisis.app.db import Database
from crisis.app.exercise_report_view import shown
from crisis.journal import JournalEntry
from exercises import inject_play, inject_reactions, injects, views
from exercises.errors import DrillConflict, DrillRefused
from exercises.inject_play import InjectPlay
from exercises.injects import Inject, InjectSpec
from tests.crisis.bulletin_support import published
from tests.exercises.inject_support import launched_with, release, sent, tick
from tests.exercises.support import TRAINER, participants, plan
from tests.support import FrozenClock

ALERT = InjectSpec(offset_min=10, audience="officials", text="Le maire d'Amiens appelle")


async def _plays(db: Database) -> list[InjectPlay]:
    async with db.read() as session:
        return list((await session.exec(select(InjectPlay))).all())


async def _actions(db: Database) -> list[str]:
    async with db.read() as session:
        return list((await session.exec(select(JournalEntry.action))).all())


async def test_an_inject_plays_once_at_its_offset_to_the_participants_only(
    db: Database, clock: FrozenClock
) -> None:
    drill = await launched_with(db, clock, ALERT)
    clock.advance(minutes=9, seconds=59)
    assert await tick(db, clock) == 0
    clock.advance(seconds=1)
    assert await tick(db, clock) == 1
    assert await tick(db, clock) == 0
    clock.advance(minutes=5)
    assert await tick(db, clock) == 0
    rows = await sent(db, drill.run, "Le maire d'Amiens appelle")
    assert sorted(d.contact_id or 0 for d, _ in rows) == sorted(drill.people)
    assert {d.audience for d, _ in rows} == {"exercise"}
    assert {d.played_audience for d, _ in rows} == {"officials"}
    assert all(text.startswith("EXERCICE EXERCICE EXERCICE — ") for _, text in rows)
    [play] = await _plays(db)
    assert (play.released_by, play.deliveries) == (None, 2)
    assert (await _actions(db)).count("exercise.inject_played") == 1


async def test_an_inject_released_by_hand_plays_at_once_and_never_again(
    db: Database, clock: FrozenClock
) -> None:
    drill = await launched_with(db, clock, ALERT)
    assert drill.run.id is not None
    clock.advance(minutes=3)
    play = await release(db, clock, drill)
    assert (play.released_by, play.played_at) == ("formatrice", clock.now())
    with pytest.raises(DrillConflict):
        await release(db, clock, drill)
    clock.advance(minutes=10)
    assert await tick(db, clock) == 0
    assert len(await sent(db, drill.run, "Le maire d'Amiens appelle")) == 2
    assert "exercise.inject_released" in await _actions(db)


async def test_pausing_the_injects_shifts_their_offsets_by_the_time_paused(
    db: Database, clock: FrozenClock
) -> None:
    drill = await launched_with(db, clock, ALERT)
    assert drill.run.id is not None
    where = {"actor": TRAINER, "drill_id": drill.drill_id, "run_id": drill.run.id}
    clock.advance(minutes=2)
    async with db.transaction() as session:
        await inject_reactions.pause(session, **where, now=clock.now())
    clock.advance(minutes=10)
    assert await tick(db, clock) == 0  # paused: nothing plays, though +12 min is past +10
    async with db.transaction() as session:
        run = await inject_reactions.resume(session, **where, now=clock.now())
    assert run.injects_paused_seconds == 600
    clock.advance(minutes=7, seconds=59)  # +19 min 59 s: the inject now plays at +20 min
    assert await tick(db, clock) == 0
    clock.advance(seconds=1)
    assert await tick(db, clock) == 1
    with pytest.raises(DrillConflict):
        async with db.transaction() as session:
            await inject_reactions.resume(session, **where, now=clock.now())
    actions = await _actions(db)
    assert "exercise.injects_paused" in actions and "exercise.injects_resumed" in actions


async def test_a_reaction_marked_done_by_the_trainer_is_on_time_or_late_against_its_deadline(
    db: Database, clock: FrozenClock
) -> None:
    quick = InjectSpec(
        offset_min=0,
        audience="media",
        text="Un journaliste appelle",
        expected_action="Rappeler",
        deadline_min=5,
    )
    slow = InjectSpec(
        offset_min=0,
        audience="media",
        text="Second appel",
        expected_action="Rappeler",
        deadline_min=5,
    )
    drill = await launched_with(db, clock, quick, slow)
    assert drill.run.id is not None
    first, second = drill.inject_ids
    where = {"actor": TRAINER, "drill_id": drill.drill_id, "run_id": drill.run.id}
    with pytest.raises(DrillConflict):  # not played yet
        async with db.transaction() as session:
            await inject_reactions.mark_done(session, **where, inject_id=first, now=clock.now())
    assert await tick(db, clock) == 2
    clock.advance(minutes=4)
    async with db.transaction() as session:
        await inject_reactions.mark_done(session, **where, inject_id=first, now=clock.now())
    clock.advance(minutes=3)
    async with db.transaction() as session:
        await inject_reactions.mark_done(session, **where, inject_id=second, now=clock.now())
    async with db.read() as session:
        report = await views.report(
            session, actor=TRAINER, drill_id=drill.drill_id, run_id=drill.run.id, now=clock.now()
        )
    reactions = {line["inject_id"]: line["reaction"] for line in report["injects"]}
    assert reactions == {first: "done", second: "late"}
    assert (await _actions(db)).count("exercise.inject_done") == 2


async def test_an_action_not_done_by_its_deadline_reads_overdue_in_the_report(
    db: Database, clock: FrozenClock
) -> None:
    spec = InjectSpec(
        offset_min=1,
        contact=None,
        audience="staff",
        text="Coupure d'électricité",
        expected_action="Prévenir le SDIS",
        deadline_min=10,
    )
    later = InjectSpec(offset_min=60, audience="staff", text="Fin de coupure")
    drill = await launched_with(db, clock, spec, later)
    assert drill.run.id is not None
    clock.advance(minutes=1)
    await tick(db, clock)
    clock.advance(minutes=11)
    async with db.read() as session:
        report = await views.report(
            session, actor=TRAINER, drill_id=drill.drill_id, run_id=drill.run.id, now=clock.now()
        )
    lines = {line["text"]: line for line in report["injects"]}
    assert lines["Coupure d'électricité"]["reaction_label"] == "Non faite, délai dépassé"
    assert lines["Fin de coupure"]["reaction"] == "upcoming"
    assert lines["Fin de coupure"]["played_at"] is None


async def test_the_first_bulletin_to_officials_marks_its_inject_done_at_its_publication(
    db: Database, clock: FrozenClock
) -> None:
    spec = InjectSpec(
        offset_min=0,
        audience="officials",
        text="Les élus demandent des nouvelles",
        expected_kind=injects.FIRST_OFFICIALS_BULLETIN,
        deadline_min=30,
    )
    drill = await launched_with(db, clock, spec)
    assert drill.run.id is not None and drill.run.crisis_id is not None
    await tick(db, clock)
    clock.advance(minutes=5)
    await published(db, clock.now(), crisis_id=drill.run.crisis_id, audiences=["media"])
    clock.advance(minutes=1)
    await tick(db, clock)
    [play] = await _plays(db)
    assert play.done_at is None  # a bulletin to the media only is not the expected one
    published_at = clock.now()
    await published(db, published_at, crisis_id=drill.run.crisis_id, audiences=["officials"])
    clock.advance(minutes=2)
    await tick(db, clock)
    [play] = await _plays(db)
    assert (play.done_at, play.done_by) == (published_at, "tocsin")
    assert play.expected_action == "Premier communiqué aux élus publié"


async def test_a_bad_inject_is_refused_in_french_and_nothing_is_written(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        people = await participants(session, now=clock.now())
        drill = await plan(
            session, now=clock.now(), people=people, starts_at=clock.now().replace(year=2027)
        )
        outsider = await participants(session, now=clock.now(), count=1)
    assert drill.id is not None
    bad = [
        InjectSpec(offset_min=5, text="Sans destinataire"),
        InjectSpec(offset_min=5, text="Les deux", audience="media", contact=people[0]),
        InjectSpec(offset_min=5, text="Public inconnu", audience="exercise"),
        InjectSpec(offset_min=5, text="Hors exercice", contact=outsider[0]),
        InjectSpec(offset_min=-1, text="Trop tôt", audience="media"),
        InjectSpec(offset_min=2000, text="Trop tard", audience="media"),
        InjectSpec(offset_min=5, text="  ", audience="media"),
        InjectSpec(offset_min=5, text="Canal", audience="media", channel="x"),
        InjectSpec(offset_min=5, text="Délai seul", audience="media", deadline_min=5),
        InjectSpec(offset_min=5, text="Type", audience="media", expected_kind="tweet"),
    ]
    for spec in bad:
        with pytest.raises(DrillRefused) as refused:
            async with db.transaction() as session:
                await injects.add(
                    session, actor=TRAINER, drill_id=drill.id, spec=spec, now=clock.now()
                )
        assert refused.value.status == 422 and refused.value.message.endswith(".")
    async with db.read() as session:
        assert (await session.exec(select(func.count()).select_from(Inject))).one() == 0


async def test_the_scenario_cannot_change_while_a_run_is_going(
    db: Database, clock: FrozenClock
) -> None:
    drill = await launched_with(db, clock, ALERT)
    with pytest.raises(DrillConflict):
        async with db.transaction() as session:
            await injects.add(
                session, actor=TRAINER, drill_id=drill.drill_id, spec=ALERT, now=clock.now()
            )
    with pytest.raises(DrillConflict):
        async with db.transaction() as session:
            await injects.remove(
                session,
                actor=TRAINER,
                drill_id=drill.drill_id,
                inject_id=drill.inject_ids[0],
                now=clock.now(),
            )


async def test_the_report_page_and_its_pdf_list_the_injects_when_played_and_the_reactions(
    db: Database, clock: FrozenClock
) -> None:
    spec = InjectSpec(
        offset_min=5,
        audience="media",
        text="Un journaliste de France 3 appelle",
        expected_action="Rappeler le journaliste",
        deadline_min=10,
    )
    drill = await launched_with(db, clock, spec)
    assert drill.run.id is not None
    clock.advance(minutes=5)
    await tick(db, clock)
    clock.advance(minutes=12)
    async with db.read() as session:
        report = await views.report(
            session, actor=TRAINER, drill_id=drill.drill_id, run_id=drill.run.id, now=clock.now()
        )
    content = exercise_report_pdf.render(shown(report), generated_at=clock.now())
    pages = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    text = " ".join(pages.replace("\xa0", " ").split())
    assert "Injects du scénario et réactions" in text
    assert "Un journaliste de France 3 appelle" in text
    assert "Non faite, délai dépassé" in text


async def test_two_ticks_at_once_and_a_release_play_each_inject_once(
    db: Database, clock: FrozenClock
) -> None:
    drill = await launched_with(db, clock, ALERT, ALERT)
    assert drill.run.id is not None
    clock.advance(minutes=10)

    async def release() -> int:
        try:
            async with db.transaction() as session:
                await inject_play.release(
                    session,
                    actor=TRAINER,
                    drill_id=drill.drill_id,
                    run_id=drill.run.id or 0,
                    inject_id=drill.inject_ids[0],
                    now=clock.now(),
                )
        except DrillConflict:
            return 0
        return 1

    played = await asyncio.gather(tick(db, clock), tick(db, clock), release())
    assert sum(played) == 2
    assert sorted(p.inject_id for p in await _plays(db)) == sorted(drill.inject_ids)
    assert len(await sent(db, drill.run, "Le maire d'Amiens appelle")) == 4
