from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from crisis import journal, journal_verification
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.app.ticks import catch_up, clock_tick, send_alerts
from crisis.cell import acknowledgements, clock_alerts, clocks, coverage, watch
from crisis.cell.clocks import Clock, ClockAlert, ClockCode, ClockRules, ClockStatus
from crisis.cell.paging import CellPage
from crisis.dispatch.outbox import Delivery, OutboxMessage
from crisis.journal_details import describe
from crisis.vocabulary import CrisisMode
from tests.crisis.lifecycle_support import (
    PREFECT,
    RULES,
    add_contact,
    cod_crisis,
    delivery,
    new_crisis,
    ordered_crisis,
    roster,
)
from tests.support import FrozenClock

pytestmark = pytest.mark.asyncio


def _clock(started, minutes=60):  # type: ignore[no-untyped-def]
    return Clock(
        crisis_id=1, code="ES47", started_at=started, deadline=started + timedelta(minutes=minutes)
    )


async def test_clock_statuses_follow_the_contract(clock: FrozenClock) -> None:
    start = clock.now()
    assert clocks.status(None, now=start) == ClockStatus.NOT_STARTED
    running = _clock(start)
    assert clocks.status(running, now=start + timedelta(minutes=60)) == ClockStatus.RUNNING
    assert clocks.status(running, now=start + timedelta(minutes=61)) == ClockStatus.OVERDUE
    met = _clock(start)
    met.met_at = start + timedelta(minutes=60)
    assert clocks.status(met, now=start + timedelta(hours=5)) == ClockStatus.MET
    late = _clock(start)
    late.met_at = start + timedelta(minutes=61)
    assert clocks.status(late, now=start + timedelta(hours=5)) == ClockStatus.LATE


async def _alerts(db: Database) -> list[ClockAlert]:
    async with db.read() as session:
        query = select(ClockAlert).order_by(col(ClockAlert.threshold_min))
        return list((await session.exec(query)).all())


async def _alert_journal(db: Database) -> list[dict[str, object]]:
    async with db.read() as session:
        entries = await journal.recent(session, limit=1000)
    return [journal.entry_view(e)["payload"] for e in entries if e.action == "clock.alert_sent"]


async def test_each_threshold_alert_goes_out_exactly_once_to_the_on_call_roster(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        crisis_id = await ordered_crisis(session, now=clock.now())
    tick = clock_tick(db, settings)
    clock.advance(minutes=29, seconds=59)
    await tick(clock.now())
    assert [a.sent_at for a in await _alerts(db)] == [None, None, None, None]
    clock.advance(seconds=1)
    await tick(clock.now())
    await tick(clock.now())
    alerts = await _alerts(db)
    assert [(a.threshold_min, a.sent_at, a.late) for a in alerts[:1]] == [(30, clock.now(), False)]
    assert all(a.sent_at is None for a in alerts[1:])
    async with db.read() as session:
        sent = (await session.exec(select(Delivery).where(Delivery.purpose == "clock_alert"))).all()
    assert sorted(d.recipient_name for d in sent) == ["Camille Com1", "Paule Pref1", "Valérie Val1"]
    assert {d.crisis_id for d in sent} == {crisis_id}
    assert [p["threshold_min"] for p in await _alert_journal(db)] == [30]


async def test_alerts_go_to_the_members_who_answered_once_someone_did(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
        crisis_id = await ordered_crisis(session, now=clock.now())
        await acknowledgements.acknowledge(
            session,
            actor=PREFECT,
            crisis_id=crisis_id,
            duty_role="communication",
            contact_id=people["Bruno Com2"],
            now=clock.now(),
        )
    clock.advance(minutes=45)
    await clock_tick(db, settings)(clock.now())
    async with db.read() as session:
        sent = (await session.exec(select(Delivery).where(Delivery.purpose == "clock_alert"))).all()
    assert [d.recipient_name for d in sent] == ["Bruno Com2", "Bruno Com2"]  # 30 and 45


async def test_a_met_clock_sends_no_more_alerts(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        crisis_id = await ordered_crisis(session, now=clock.now())
        es47 = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES47)
        assert es47 is not None
        await clocks.meet(session, clock=es47, met_at=clock.now() + timedelta(minutes=20))
    clock.advance(minutes=90)
    await clock_tick(db, settings)(clock.now())
    assert all(a.sent_at is None for a in await _alerts(db))


async def test_concurrent_ticks_send_each_alert_once(
    db: Database, clock: FrozenClock, settings: Settings, database_url: str
) -> None:
    async with db.transaction() as session:
        for _ in range(20):
            await ordered_crisis(session, now=clock.now())
    clock.advance(minutes=61)
    other = Database.from_url(database_url)
    try:
        await asyncio.gather(
            send_alerts(db, settings, now=clock.now()),
            send_alerts(other, settings, now=clock.now()),
            send_alerts(db, settings, now=clock.now()),
        )
    finally:
        await other.dispose()
    alerts = await _alerts(db)
    assert len(alerts) == 80 and all(a.sent_at is not None for a in alerts)
    payloads = await _alert_journal(db)
    assert len(payloads) == 80


async def test_a_threshold_passed_while_down_is_sent_at_start_marked_late(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await ordered_crisis(session, now=clock.now())
    clock.advance(minutes=30, seconds=2)
    await clock_tick(db, settings)(clock.now())
    # the service dies here; 45 and 55 pass while it is down
    clock.advance(minutes=26)
    await catch_up(db, settings)(clock.now())
    await clock_tick(db, settings)(clock.now())
    alerts = await _alerts(db)
    assert [(a.threshold_min, a.late) for a in alerts if a.sent_at] == [
        (30, False),
        (45, True),
        (55, True),
    ]
    assert [p["threshold_min"] for p in reversed(await _alert_journal(db))] == [30, 45, 55]


async def test_an_alert_sent_well_after_its_threshold_is_late_even_without_restart(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await ordered_crisis(session, now=clock.now())
    clock.advance(minutes=30, seconds=10)
    async with db.transaction() as session:
        sent = await clock_alerts.send_due(
            session, now=clock.now(), base_url="http://t", late_after=timedelta(seconds=5)
        )
    assert [(s.alert.threshold_min, s.late) for s in sent] == [(30, True)]


async def test_alerts_of_an_exercise_say_so_and_go_to_exercise_contacts_only(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        await add_contact(session, name="Éric Exo", audience="exercise", now=clock.now())
        await ordered_crisis(session, now=clock.now(), mode=CrisisMode.EXERCISE)
    clock.advance(minutes=30)
    await clock_tick(db, settings)(clock.now())
    async with db.read() as session:
        sent = (await session.exec(select(Delivery).where(Delivery.purpose == "clock_alert"))).all()
        from crisis.dispatch.outbox import OutboxMessage

        texts = (await session.exec(select(OutboxMessage.text))).all()
    assert [(d.recipient_name, d.audience) for d in sent] == [("Éric Exo", "exercise")]
    assert all(t.startswith("EXERCICE EXERCICE EXERCICE") for t in texts)


async def test_the_clock_thresholds_and_deadline_are_configurable(
    db: Database, clock: FrozenClock
) -> None:
    rules = ClockRules(deadline_minutes=90, thresholds=(60, 90))
    async with db.transaction() as session:
        crisis = await new_crisis(session, now=clock.now())
        assert crisis.id is not None
        started = await clocks.start(
            session, crisis_id=crisis.id, code=ClockCode.ES47, started_at=clock.now(), rules=rules
        )
    assert started.deadline == clock.now() + timedelta(minutes=90)
    assert [a.threshold_min for a in await _alerts(db)] == [60, 90]


async def _cod_crisis(db: Database, clock: FrozenClock, mode: CrisisMode = CrisisMode.REAL) -> int:
    async with db.transaction() as session:
        return await cod_crisis(session, now=clock.now(), mode=mode)


async def test_es48_coverage_is_computed_from_deliveries_after_the_cod(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    cod = clock.now()
    crisis_id = await _cod_crisis(db, clock)
    t = lambda minutes: cod + timedelta(minutes=minutes)  # noqa: E731
    async with db.transaction() as session:
        # before the COD: never counts
        await delivery(
            session,
            crisis_id=crisis_id,
            audience="public",
            channel="x",
            status="sent",
            created_at=t(-5),
            sent_at=t(-5),
        )
        await delivery(
            session,
            crisis_id=crisis_id,
            audience="officials",
            contact_id=1,
            name="Maire d'Abbeville",
            status="sent",
            created_at=t(10),
            sent_at=t(11),
        )
        await delivery(
            session,
            crisis_id=crisis_id,
            audience="officials",
            contact_id=2,
            name="Maire de Péronne",
            status="to_call",
            created_at=t(10),
        )
        await delivery(
            session,
            crisis_id=crisis_id,
            audience="media",
            contact_id=3,
            name="Le Courrier picard",
            status="sent",
            created_at=t(10),
            sent_at=t(12),
        )
        await delivery(
            session,
            crisis_id=crisis_id,
            audience="public",
            channel="mastodon",
            status="failed",
            created_at=t(10),
        )
    async with db.read() as session:
        found = await coverage.es48(session, crisis_id=crisis_id, since=cod, exercise=False)
    assert found.view()["officials"] == {
        "covered_at": None,
        "reached": 1,
        "total": 2,
        "missing": ["Maire de Péronne"],
        "missing_count": 1,
    }
    assert found.media.covered_at == t(12) and found.public.covered_at is None
    assert found.public.missing == ("mastodon",) and found.met_at is None
    async with db.transaction() as session:
        await delivery(
            session,
            crisis_id=crisis_id,
            audience="officials",
            contact_id=2,
            name="Maire de Péronne",
            status="confirmed",
            created_at=t(20),
            confirmed_at=t(25),
        )
        await delivery(
            session,
            crisis_id=crisis_id,
            audience="public",
            channel="public_page",
            status="sent",
            created_at=t(15),
            sent_at=t(15),
        )
    clock.advance(minutes=30)
    await clock_tick(db, settings)(clock.now())
    async with db.read() as session:
        es48 = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES48)
    assert es48 is not None and es48.met_at == t(25)
    assert clocks.status(es48, now=clock.now()) == ClockStatus.MET


async def test_es48_of_an_exercise_uses_the_played_audience(
    db: Database, clock: FrozenClock
) -> None:
    cod = clock.now()
    crisis_id = await _cod_crisis(db, clock, mode=CrisisMode.EXERCISE)
    async with db.transaction() as session:
        for played, cid, channel in (
            ("officials", 1, "email"),
            ("media", 2, "email"),
            ("public", None, "telegram"),
        ):
            await delivery(
                session,
                crisis_id=crisis_id,
                audience="exercise",
                played_audience=played,
                contact_id=cid,
                name=f"Joueur {cid}",
                channel=channel,
                status="sent",
                created_at=cod,
                sent_at=cod + timedelta(minutes=70),
            )
    async with db.read() as session:
        found = await coverage.es48(session, crisis_id=crisis_id, since=cod, exercise=True)
    assert found.met_at == cod + timedelta(minutes=70)
    async with db.transaction() as session:
        assert await watch.record_met(session, now=cod + timedelta(minutes=71)) == 1
    async with db.read() as session:
        es48 = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES48)
        count = (await session.exec(select(func.count()).select_from(ClockAlert))).one()
    assert es48 is not None and clocks.status(es48, now=clock.now()) == ClockStatus.LATE
    assert count == 4


@pytest.mark.postgres_only
async def test_two_instances_on_postgresql_send_each_alert_once_and_only_one_leads(
    db: Database, clock: FrozenClock, settings: Settings, database_url: str
) -> None:
    from crisis.app.background import build_background
    from crisis.app.leadership import LostLeadership

    if db.dialect != "postgresql":
        pytest.skip("needs PostgreSQL (TOCSIN_TEST_POSTGRES)")
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        for _ in range(50):
            await ordered_crisis(session, now=clock.now())
    clock.advance(minutes=45)
    first, second = Database.from_url(database_url), Database.from_url(database_url)
    instances = [
        build_background(d, clock, tick_seconds=1, settings=settings) for d in (first, second)
    ]
    try:
        for instance in instances:
            await instance._refresh_leadership()
        assert sorted(i.is_leader for i in instances) == [False, True]
        ticks = [job.tick for i in instances for job in i.jobs if job.name == "clocks"]
        # Both tick at once as if both led (a leadership hand-over racing a tick): the
        # follower's writes are refused by the lease's fence, the leader's go through once.
        outcomes = await asyncio.gather(
            *(tick(clock.now()) for tick in ticks * 2), return_exceptions=True
        )
        refused = [o for o in outcomes if isinstance(o, LostLeadership)]
        assert len(refused) == 2 and outcomes.count(None) == 2
    finally:
        await first.dispose()
        await second.dispose()
    alerts = await _alerts(db)
    assert sum(a.sent_at is not None for a in alerts) == 100  # 30 and 45, per clock
    assert len(await _alert_journal(db)) == 100
    async with db.read() as session:
        count = (
            await session.exec(
                select(func.count()).select_from(Delivery).where(Delivery.purpose == "clock_alert")
            )
        ).one()
    assert count == 100 * 3


async def test_a_burst_of_alerts_keeps_both_journal_chains_and_each_alert_its_own_message(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        first = await ordered_crisis(session, now=clock.now())
        second = await ordered_crisis(session, now=clock.now())
    clock.advance(minutes=56)
    await catch_up(db, settings)(clock.now())  # 30, 45 and 55 of both, in one batch
    async with db.transaction() as session:  # an ordinary entry after the burst
        await journal.append(
            session, actor=PREFECT, action="test.after", now=clock.now(), crisis_id=first
        )
    async with db.read() as session:
        for crisis_id in (None, first, second):
            report = await journal_verification.verify(session, crisis_id=crisis_id)
            assert report.ok, (crisis_id, report)
        rows = (
            await session.exec(
                select(Delivery, OutboxMessage)
                .join(OutboxMessage, col(OutboxMessage.id) == col(Delivery.message_id))
                .where(Delivery.purpose == "clock_alert")
            )
        ).all()
    assert len(rows) == 2 * 3 * 3  # two crises, three thresholds, three people
    for sent, message in rows:
        assert message.crisis_id == sent.crisis_id and message.channel == sent.channel
    per_message: dict[int, set[str]] = {}
    for sent, message in rows:
        per_message.setdefault(message.id or 0, set()).add(sent.recipient_name)
    assert len(per_message) == 6 and all(len(names) == 3 for names in per_message.values())
    for crisis_id in (first, second):  # 30, 45 and 55 min: three distinct texts
        assert len({m.text for _, m in rows if m.crisis_id == crisis_id}) == 3


async def test_only_cells_unanswered_past_the_delay_page_their_next_level(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
        early = await ordered_crisis(session, now=clock.now())
        answered = await ordered_crisis(session, now=clock.now())
        for role, name in (("communication", "Camille Com1"), ("validator", "Valérie Val1")):
            await acknowledgements.acknowledge(
                session,
                actor=PREFECT,
                crisis_id=answered,
                duty_role=role,
                contact_id=people[name],
                now=clock.now(),
            )
    clock.advance(minutes=5)
    async with db.transaction() as session:
        late = await ordered_crisis(session, now=clock.now())
    clock.advance(minutes=5)  # the escalation delay of the first two, half of the last's
    async with db.transaction() as session:
        assert await watch.escalate_pages(session, rules=RULES, now=clock.now()) == 2
    async with db.read() as session:
        pages = (await session.exec(select(CellPage).where(CellPage.level == 2))).all()
    assert sorted((p.crisis_id, p.duty_role) for p in pages) == [
        (early, "communication"),
        (early, "validator"),
    ]
    assert late not in {p.crisis_id for p in pages}


async def test_a_clock_alert_reads_in_the_journal_as_a_french_sentence_with_its_recipients(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        await ordered_crisis(session, now=clock.now())
    clock.advance(minutes=30)
    await clock_tick(db, settings)(clock.now())
    [payload] = await _alert_journal(db)
    detail = describe("clock.alert_sent", payload)
    assert detail.sentence == "ES47 : alerte du seuil 30 min (3 destinataires)."
