from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import col, func, select

from crisis import journal, paged_answers
from crisis.app.db import Database
from crisis.cell import acknowledgements, clocks, crises, lifecycle, paging, tracks, watch
from crisis.cell.checklist import ChecklistEntry
from crisis.cell.clocks import ClockCode
from crisis.cell.crises import Crisis
from crisis.cell.paging import CellPage
from crisis.cell.tracks import CellTrack, CodTrack
from crisis.dispatch.outbox import Delivery
from crisis.errors import Conflict, DomainError, Forbidden, InvalidInput
from crisis.vocabulary import CrisisMode, CrisisStatus
from tests.crisis.lifecycle_support import (
    COMMUNICATOR,
    PREFECT,
    RULES,
    new_crisis,
    ordered_crisis,
    roster,
)
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio


async def _pages(db, crisis_id):  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return await paging.pages_of(session, crisis_id=crisis_id)


async def _status(db, crisis_id):  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return (await crises.get(session, crisis_id=crisis_id)).status


async def test_ordering_the_cell_pages_level_one_of_each_duty_role_and_starts_es47(
    db, clock: FrozenClock
) -> None:
    now = clock.now()
    async with db.transaction() as session:
        await roster(session, now=now)
        crisis_id = await ordered_crisis(session, now=now)
    pages = await _pages(db, crisis_id)
    assert sorted((p.duty_role, p.level, p.name) for p in pages) == [
        ("communication", 1, "Camille Com1"),
        ("prefect", 1, "Paule Pref1"),
        ("validator", 1, "Valérie Val1"),
    ]
    async with db.read() as session:
        deliveries = (await session.exec(select(Delivery))).all()
        es47 = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES47)
        actions = [e.action for e in await journal.for_crisis(session, crisis_id=crisis_id)]
    assert {(d.purpose, d.audience, d.channel) for d in deliveries} == {("page", "staff", "email")}
    assert len(deliveries) == 3
    assert es47 is not None and es47.started_at == now
    assert es47.deadline == now + timedelta(minutes=60)
    assert actions == ["crisis.declared", "cell.ordered", "cell.paged"]
    assert await _status(db, crisis_id) == CrisisStatus.CELL_ORDERED


async def test_an_exercise_pages_only_exercise_contacts_with_the_exercise_audience(
    db, clock: FrozenClock
) -> None:
    now = clock.now()
    async with db.transaction() as session:
        await roster(session, now=now)
        await roster(session, now=now, audience="exercise")
        crisis_id = await ordered_crisis(session, now=now, mode=CrisisMode.EXERCISE)
    async with db.read() as session:
        deliveries = (await session.exec(select(Delivery))).all()
    assert len(deliveries) == 3
    assert {(d.audience, d.played_audience) for d in deliveries} == {("exercise", "staff")}
    pages = await _pages(db, crisis_id)
    async with db.read() as session:
        from contacts.directory import Contact

        audiences = {(await session.get(Contact, p.contact_id)).audience for p in pages}  # type: ignore[union-attr]
    assert audiences == {"exercise"}


async def test_no_answer_from_level_one_pages_level_two_after_the_configured_delay(
    db, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
        crisis_id = await ordered_crisis(session, now=clock.now())
        await acknowledgements.acknowledge(
            session,
            actor=PREFECT,
            crisis_id=crisis_id,
            duty_role="communication",
            contact_id=people["Camille Com1"],
            now=clock.now(),
        )
    clock.advance(minutes=9)
    async with db.transaction() as session:
        assert await watch.escalate_pages(session, rules=RULES, now=clock.now()) == 0
    clock.advance(minutes=1)
    async with db.transaction() as session:
        assert await watch.escalate_pages(session, rules=RULES, now=clock.now()) == 1
    async with db.transaction() as session:  # the same minute again: nothing twice
        assert await watch.escalate_pages(session, rules=RULES, now=clock.now()) == 0
    pages = await _pages(db, crisis_id)
    assert [(p.duty_role, p.level, p.name) for p in pages if p.level == 2] == [
        ("validator", 2, "Victor Val2")
    ]


async def test_the_cell_is_operational_only_once_minimum_staffing_answered(
    db, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
        crisis_id = await ordered_crisis(session, now=clock.now())
    with pytest.raises(Conflict) as refused:
        async with db.transaction() as session:
            await lifecycle.declare_operational(
                session, actor=COMMUNICATOR, crisis_id=crisis_id, rules=RULES, now=clock.now()
            )
    assert refused.value.code == "minimum_staffing_not_met"
    assert refused.value.details == {"missing": {"communication": 1, "validator": 1}}
    assert await _status(db, crisis_id) == CrisisStatus.CELL_ORDERED
    clock.advance(minutes=12)
    async with db.transaction() as session:
        for name, role in (("Camille Com1", "communication"), ("Valérie Val1", "validator")):
            await acknowledgements.acknowledge(
                session,
                actor=PREFECT,
                crisis_id=crisis_id,
                duty_role=role,
                contact_id=people[name],
                now=clock.now(),
            )
    clock.advance(minutes=30)
    async with db.transaction() as session:
        await lifecycle.declare_operational(
            session, actor=COMMUNICATOR, crisis_id=crisis_id, rules=RULES, now=clock.now()
        )
    async with db.read() as session:
        es47 = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES47)
    assert es47 is not None and es47.met_at == clock.now()
    assert clocks.status(es47, now=clock.now()) == clocks.ClockStatus.MET


async def test_a_paged_person_acknowledges_once_with_the_link(db, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        crisis_id = await ordered_crisis(session, now=clock.now())
        text = (await session.exec(select(Delivery.address))).first()
    assert text
    async with db.read() as session:
        from crisis.dispatch.outbox import OutboxMessage

        message = (await session.exec(select(OutboxMessage))).first()
    assert message is not None and message.link and "/acquitter/" in message.link
    token = message.link.rsplit("/", 1)[1]
    assert "Confirmez votre venue" in message.text
    async with db.transaction() as session:
        row = await paged_answers.acknowledge_link(session, token=token, now=clock.now())
    with pytest.raises(Conflict):
        async with db.transaction() as session:
            await paged_answers.acknowledge_link(session, token=token, now=clock.now())
    async with db.read() as session:
        acks = await paging.acknowledgements(session, crisis_ids=[crisis_id])
    assert [(a.duty_role, a.name, a.via) for a in acks] == [(row.duty_role, row.name, "link")]


async def test_a_duplicate_acknowledgement_is_refused(db, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
        crisis_id = await ordered_crisis(session, now=clock.now())
    kwargs = {
        "actor": PREFECT,
        "crisis_id": crisis_id,
        "duty_role": "communication",
        "contact_id": people["Camille Com1"],
    }
    async with db.transaction() as session:
        await acknowledgements.acknowledge(session, now=clock.now(), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(Conflict) as refused:
        async with db.transaction() as session:
            await acknowledgements.acknowledge(session, now=clock.now(), **kwargs)  # type: ignore[arg-type]
    assert refused.value.code == "already_acknowledged"


async def _operational(db, clock: FrozenClock) -> int:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
        crisis_id = await ordered_crisis(session, now=clock.now())
        for name, role in (("Camille Com1", "communication"), ("Valérie Val1", "validator")):
            await acknowledgements.acknowledge(
                session,
                actor=PREFECT,
                crisis_id=crisis_id,
                duty_role=role,
                contact_id=people[name],
                now=clock.now(),
            )
        await lifecycle.declare_operational(
            session, actor=PREFECT, crisis_id=crisis_id, rules=RULES, now=clock.now()
        )
    return crisis_id


async def test_the_cod_is_recorded_with_a_decision_time_in_the_past_and_starts_es48(
    db, clock: FrozenClock
) -> None:
    crisis_id = await _operational(db, clock)
    decided = clock.now() - timedelta(minutes=7)
    async with db.transaction() as session:
        crisis = await lifecycle.record_cod(
            session,
            actor=PREFECT,
            crisis_id=crisis_id,
            activated_at=decided,
            synergi_ref="SYN-80-2026-0412",
            decided_by="Mme la préfète",
            rules=RULES,
            now=clock.now(),
        )
    assert crisis.status == CrisisStatus.CELL_OPERATIONAL  # the cell's track, untouched
    assert tracks.of(crisis).cod == CodTrack.ACTIVATED
    async with db.read() as session:
        es48 = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES48)
    assert es48 is not None and es48.started_at == decided
    assert es48.deadline == decided + timedelta(hours=1)


@pytest.mark.parametrize(
    ("shift", "ref", "who", "code", "error"),
    [
        (timedelta(minutes=5), "SYN-1", "Préfète", "cod_in_future", Conflict),
        (timedelta(hours=-25), "SYN-1", "Préfète", "cod_too_old", Conflict),
        (timedelta(0), "", "Préfète", "synergi_ref_missing", InvalidInput),
        (timedelta(0), "SYN-1", "  ", "decided_by_missing", InvalidInput),
    ],
)
async def test_a_bad_cod_is_refused_journaled_and_changes_nothing(
    db, clock: FrozenClock, shift: timedelta, ref: str, who: str, code: str, error: type
) -> None:
    crisis_id = await _operational(db, clock)
    with pytest.raises(error) as refused:
        async with db.transaction() as session:
            await lifecycle.record_cod(
                session,
                actor=PREFECT,
                crisis_id=crisis_id,
                activated_at=clock.now() + shift,
                synergi_ref=ref,
                decided_by=who,
                rules=RULES,
                now=clock.now(),
            )
    assert refused.value.code == code and refused.value.journaled
    assert await _status(db, crisis_id) == CrisisStatus.CELL_OPERATIONAL
    async with db.read() as session:
        assert await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES48) is None


async def test_transitions_out_of_order_or_twice_are_refused(db, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        crisis = await new_crisis(session, now=clock.now())
    assert crisis.id is not None
    with pytest.raises(Conflict) as refused:
        async with db.transaction() as session:
            await lifecycle.declare_operational(
                session, actor=PREFECT, crisis_id=crisis.id, rules=RULES, now=clock.now()
            )
    assert refused.value.code == "transition_out_of_order"
    async with db.transaction() as session:
        await lifecycle.order_cell(
            session, actor=PREFECT, crisis_id=crisis.id, rules=RULES, now=clock.now()
        )
    with pytest.raises(Conflict) as twice:
        async with db.transaction() as session:
            await lifecycle.order_cell(
                session, actor=PREFECT, crisis_id=crisis.id, rules=RULES, now=clock.now()
            )
    assert twice.value.code == "already_done"


async def _cod(db: Database, crisis_id: int, *, at: datetime, now: datetime) -> Crisis:
    async with db.transaction() as session:
        return await lifecycle.record_cod(
            session,
            actor=PREFECT,
            crisis_id=crisis_id,
            activated_at=at,
            synergi_ref="SYN-80-2026-0412",
            decided_by="Mme la préfète",
            rules=RULES,
            now=now,
        )


async def test_the_cod_is_recorded_before_the_cell_is_operational(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        crisis = await new_crisis(session, now=clock.now())
    assert crisis.id is not None
    clock.advance(minutes=4)
    decided = clock.now() - timedelta(minutes=2)
    recorded = await _cod(db, crisis.id, at=decided, now=clock.now())
    assert tracks.of(recorded) == tracks.Tracks(
        open=True, cell=CellTrack.NOT_ORDERED, cod=CodTrack.ACTIVATED
    )
    async with db.transaction() as session:  # the cell follows its own track afterwards
        ordered = await lifecycle.order_cell(
            session, actor=PREFECT, crisis_id=crisis.id, rules=RULES, now=clock.now()
        )
    assert tracks.of(ordered).cell == CellTrack.ORDERED
    assert tracks.of(ordered).cod == CodTrack.ACTIVATED
    async with db.read() as session:
        es48 = await clocks.find(session, crisis_id=crisis.id, code=ClockCode.ES48)
    assert es48 is not None and es48.started_at == decided


async def test_the_cod_is_recorded_once_and_never_on_a_closed_crisis(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        crisis = await new_crisis(session, now=clock.now())
        other = await new_crisis(session, now=clock.now())
    assert crisis.id is not None and other.id is not None
    await _cod(db, crisis.id, at=clock.now(), now=clock.now())
    with pytest.raises(Conflict) as twice:
        await _cod(db, crisis.id, at=clock.now(), now=clock.now())
    assert twice.value.code == "already_done"
    async with db.transaction() as session:
        await lifecycle.close(session, actor=PREFECT, crisis_id=other.id, now=clock.now())
    with pytest.raises(Conflict) as closed:
        await _cod(db, other.id, at=clock.now(), now=clock.now())
    assert closed.value.code == "crisis_closed"


async def test_only_the_prefect_orders_the_cell_and_closes(db, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        crisis = await new_crisis(session, now=clock.now())
    assert crisis.id is not None
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await lifecycle.order_cell(
                session, actor=COMMUNICATOR, crisis_id=crisis.id, rules=RULES, now=clock.now()
            )
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await lifecycle.close(session, actor=COMMUNICATOR, crisis_id=crisis.id, now=clock.now())


async def test_closing_stops_everything_and_a_second_close_is_refused(
    db, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        crisis_id = await ordered_crisis(session, now=clock.now())
        await lifecycle.close(session, actor=PREFECT, crisis_id=crisis_id, now=clock.now())
    with pytest.raises(DomainError) as refused:
        async with db.transaction() as session:
            await lifecycle.close(session, actor=PREFECT, crisis_id=crisis_id, now=clock.now())
    assert refused.value.code == "crisis_already_closed"
    with pytest.raises(Conflict) as after:
        async with db.transaction() as session:
            await lifecycle.declare_operational(
                session, actor=PREFECT, crisis_id=crisis_id, rules=RULES, now=clock.now()
            )
    assert after.value.code == "crisis_closed"


async def test_declaring_a_crisis_with_a_playbook_copies_its_checklist_with_due_times(
    db, clock: FrozenClock
) -> None:
    from playbooks import load_library

    library = load_library()
    crue = crises.playbook_for("crue", library)
    assert crue is not None
    async with db.transaction() as session:
        crisis = await crises.declare(
            session,
            actor=PREFECT,
            title="Crue de la Somme",
            kind="crue",
            mode=CrisisMode.REAL,
            communes=["80001"],
            now=clock.now(),
            playbook=crue,
        )
    async with db.read() as session:
        items = (
            await session.exec(
                select(ChecklistEntry)
                .where(ChecklistEntry.crisis_id == crisis.id)
                .order_by(col(ChecklistEntry.position))
            )
        ).all()
    assert len(items) == len(crue.checklist)
    assert items[0].due_at == clock.now() and items[0].action == "order_cell"
    assert all(i.due_at == clock.now() + timedelta(minutes=i.due_offset_min) for i in items)
    assert crises.playbook_for("submersion-marine", library) is not None
    assert crises.playbook_for("submersion_marine", library) is None


async def test_editing_the_playbook_afterwards_does_not_change_a_running_crisis(
    db, clock: FrozenClock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from playbooks import LIBRARY_DIR, load_library

    shutil.copytree(LIBRARY_DIR, tmp_path / "lib")
    crue = load_library(tmp_path / "lib")["crue"]
    async with db.transaction() as session:
        crisis = await crises.declare(
            session,
            actor=PREFECT,
            title="Crue",
            kind="crue",
            mode=CrisisMode.REAL,
            communes=["80001"],
            now=clock.now(),
            playbook=crue,
        )
    path = tmp_path / "lib" / "crue.yaml"
    first_title = crue.checklist[0].title
    path.write_text(path.read_text(encoding="utf-8").replace(first_title, "Étape réécrite"))
    edited = load_library(tmp_path / "lib")["crue"]
    assert any(s.title == "Étape réécrite" for s in edited.checklist)
    async with db.read() as session:
        titles = [
            i.title
            for i in (
                await session.exec(
                    select(ChecklistEntry).where(ChecklistEntry.crisis_id == crisis.id)
                )
            ).all()
        ]
        count = (await session.exec(select(func.count()).select_from(CellPage))).one()
    assert first_title in titles and "Étape réécrite" not in titles
    assert count == 0
