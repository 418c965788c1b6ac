"""Exercise isolation extended to drills: generated programmes over generated directories, some
trying to name real mayors, journalists or public accounts as participants or as an inject's
target, launched, their injects played and released, stopped and dispatched. Nothing of a
drill ever reaches a real channel or a real audience."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from channels.base import Channel, Message
from channels.kinds import ChannelKind
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.dispatch.dispatcher import Dispatcher
from crisis.dispatch.outbox import Delivery
from exercises import inject_play, inject_reactions, injects, launching
from exercises.errors import DrillRefused
from exercises.injects import InjectSpec
from exercises.programme import Drill, DrillKind, DrillRun
from tests.conftest import ON_POSTGRESQL, _empty_tables
from tests.crisis.dispatch_support import RecordingChannel
from tests.crisis.lifecycle_support import add_contact, add_on_call
from tests.exercises.support import LAUNCH, TRAINER, plan, refused_plan_request, stop
from tests.support import FrozenClock

AUDIENCES = ["officials", "media", "staff", "exercise"]
CHANNELS = [("email", ""), ("sms", "+33612345678"), ("telegram", "123456789")]
PUBLIC_ACCOUNTS = [("x", "@Prefet80"), ("mastodon", "@prefet80")]
ALL_KINDS = frozenset(ChannelKind) - {ChannelKind.APPRISE}
EXAMPLES = 10 if ON_POSTGRESQL else 25


@dataclass(frozen=True)
class Person:
    audience: str
    channel: int  # index in CHANNELS + PUBLIC_ACCOUNTS
    on_duty: bool
    participant: bool


@dataclass(frozen=True)
class Scene:
    """An inject as generated: its offset, its target (an audience, or a directory entry by
    index: a participant or not), its channel, and whether the trainer releases it by hand."""

    offset: int
    audience: str | None
    person: int
    channel: str | None
    by_hand: bool


scenes = st.builds(
    Scene,
    offset=st.integers(0, 30),
    audience=st.sampled_from([None, "officials", "media", "public", "staff"]),
    person=st.integers(0, 7),
    channel=st.sampled_from([None, "email", "sms", "telegram"]),
    by_hand=st.booleans(),
)

people = st.builds(
    Person,
    audience=st.sampled_from(AUDIENCES),
    channel=st.integers(0, len(CHANNELS) + len(PUBLIC_ACCOUNTS) - 1),
    on_duty=st.booleans(),
    participant=st.booleans(),
)


async def _directory(db: Database, clock: FrozenClock, crowd: list[Person]) -> dict[int, Person]:
    found: dict[int, Person] = {}
    async with db.transaction() as session:
        for index, person in enumerate(crowd):
            channel = (CHANNELS + PUBLIC_ACCOUNTS)[person.channel]
            name = f"Personne{index} Générée"
            if person.on_duty:
                cid = await add_on_call(
                    session,
                    name=name,
                    role="communication",
                    level=1 + index % 3,
                    now=clock.now(),
                    audience=person.audience,
                    channel=channel,
                )
            else:
                cid = await add_contact(
                    session, name=name, audience=person.audience, channel=channel, now=clock.now()
                )
            found[cid] = person
    return found


async def _dispatch(db: Database, clock: FrozenClock) -> tuple[list[Message], list[Message]]:
    real = {k: RecordingChannel(k, f"real-{k}") for k in ALL_KINDS}
    exercise = {k: RecordingChannel(k, f"exercise-{k}") for k in ALL_KINDS}
    worker = Dispatcher(
        db=db, real=dict[ChannelKind, Channel](real), exercise=dict[ChannelKind, Channel](exercise)
    )
    await worker.run(clock.now())
    await worker.aclose()
    return (
        [m for fake in real.values() for m, _ in fake.sent],
        [m for fake in exercise.values() for m, _ in fake.sent],
    )


async def _write_scenario(
    db: Database, clock: FrozenClock, drill: Drill, ids: list[int], scenario: list[Scene]
) -> list[int]:
    """The scenes as the drill's injects; a target outside the participants is refused."""
    assert drill.id is not None
    written = []
    for scene in scenario:
        contact = ids[scene.person % len(ids)] if ids and scene.audience is None else None
        spec = InjectSpec(
            offset_min=scene.offset,
            audience=scene.audience,
            contact=contact,
            channel=scene.channel,
            text=f"Inject à +{scene.offset} min",
        )
        try:
            async with db.transaction() as session:
                inject = await injects.add(
                    session, actor=TRAINER, drill_id=drill.id, spec=spec, now=clock.now()
                )
        except DrillRefused:
            assert contact is None or contact not in drill.participants
            continue
        assert inject.id is not None
        if scene.by_hand:
            written.append(inject.id)
    return written


async def _play_scenario(
    db: Database, clock: FrozenClock, run: DrillRun, by_hand: list[int]
) -> None:
    """The injects released by hand, then the rest played by the tick at their offsets."""
    assert run.id is not None
    for inject_id in by_hand:
        async with db.transaction() as session:
            await inject_play.release(
                session,
                actor=TRAINER,
                drill_id=run.drill_id,
                run_id=run.id,
                inject_id=inject_id,
                now=clock.now(),
            )
    clock.advance(minutes=31)
    async with db.transaction() as session:
        await inject_reactions.tick(session, now=clock.now())


async def _scenario(
    url: str, kind: DrillKind, crowd: list[Person], halt: bool, scenario: list[Scene]
) -> None:
    db = Database.from_url(url)
    clock = FrozenClock()
    try:
        directory = await _directory(db, clock, crowd)
        named = [cid for cid, p in directory.items() if p.participant]
        try:
            async with db.transaction() as session:
                drill = await plan(
                    session,
                    now=clock.now(),
                    kind=kind,
                    people=named,
                    starts_at=clock.now() + timedelta(days=1),
                )
        except DrillRefused as refused:
            not_exercise = [c for c in named if directory[c].audience != "exercise"]
            assert not_exercise or (kind == DrillKind.CRISIS and not named), refused.code
            async with db.read() as session:
                assert (await session.exec(select(Drill))).all() == []
            return
        assert all(directory[c].audience == "exercise" for c in named)
        assert drill.id is not None
        by_hand = []
        if kind == DrillKind.CRISIS:
            by_hand = await _write_scenario(db, clock, drill, list(directory), scenario)
        async with db.transaction() as session:
            run = await launching.launch_now(
                session, actor=TRAINER, drill_id=drill.id, rules=LAUNCH, now=clock.now()
            )
        if kind == DrillKind.CRISIS:
            await _play_scenario(db, clock, run, by_hand)
        if halt:
            clock.advance(minutes=1)
            await stop(db, run, actor=TRAINER, reason="Événement réel", now=clock.now())
        real_sent, exercise_sent = await _dispatch(db, clock)
        assert real_sent == []
        assert all(m.text.startswith("EXERCICE EXERCICE EXERCICE") for m in exercise_sent)
        async with db.read() as session:
            rows = (await session.exec(select(Delivery))).all()
        assert {d.audience for d in rows} <= {"exercise"}
        assert {d.crisis_id for d in rows} <= {run.crisis_id}
        reached = {d.contact_id for d in rows if d.contact_id is not None}
        if kind == DrillKind.CRISIS:  # only exercise contacts play a crisis drill
            assert all(directory[c].audience == "exercise" for c in reached)
        else:  # an on-call test: the roster on duty and the named participants, no one else
            allowed = {c for c, p in directory.items() if p.on_duty} | set(named)
            assert reached <= allowed
    finally:
        await _empty_tables(db)
        await db.dispose()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from([DrillKind.CRISIS, DrillKind.ON_CALL]),
    crowd=st.lists(people, min_size=0, max_size=8),
    halt=st.booleans(),
    scenario=st.lists(scenes, max_size=4),
)
def test_no_generated_drill_ever_reaches_a_real_channel_or_a_real_audience(
    database_url: str, kind: DrillKind, crowd: list[Person], halt: bool, scenario: list[Scene]
) -> None:
    asyncio.run(_scenario(database_url, kind, crowd, halt, scenario))


HOSTILE_FIELDS = {
    "mode": st.sampled_from(["real", "exercise"]),
    "audiences": st.lists(st.sampled_from(["officials", "media", "public", "staff"]), min_size=1),
    "channels": st.lists(
        st.sampled_from(["x", "mastodon", "webhook", "public_page", "email"]), min_size=1
    ),
    "public_accounts": st.just({"x": "@Prefet80"}),
    "recipients": st.lists(st.emails(), min_size=1, max_size=2),
    "text": st.text(min_size=1, max_size=40),  # a reachability test's text is fixed
}


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.parametrize("kind", ["on_call", "reachability"])
@given(extra=st.fixed_dictionaries({}, optional=HOSTILE_FIELDS).filter(bool))
def test_a_drill_request_naming_real_audiences_channels_texts_or_modes_is_refused(
    database_url: str, settings: Settings, kind: str, extra: dict[str, object]
) -> None:
    asyncio.run(refused_plan_request(database_url, settings, extra, kind=kind))
