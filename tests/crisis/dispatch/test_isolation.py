"""Exercise isolation: whatever the rows say, an exercise never reaches a real channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.base import Channel
from channels.config import ChannelsConfig
from channels.kinds import ChannelKind
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.dispatch.dispatcher import Dispatcher
from crisis.dispatch.isolation import Lane, decide
from tests.conftest import ON_POSTGRESQL, _empty_tables
from tests.crisis.dispatch_support import (
    RecordingChannel,
    deliveries,
    enqueue,
    make_crisis,
)
from tests.support import FrozenClock

AUDIENCES = ["officials", "media", "public", "staff", "exercise"]
CHANNELS = ["email", "telegram", "sms", "x", "mastodon", "public_page", "pigeon"]
MODES = ["real", "exercise", "drill"]
ADDRESSES = {
    "email": ["maire@mairie-amiens.fr", "redaction@courrier-picard.fr", "cellule@exercice.test"],
    "telegram": ["123456789", "@prefecture80", "-100200300"],
    "sms": ["+33612345678", "0612345678", "+33700000000"],
    "x": ["public", "@Prefet80"],
    "mastodon": ["public", "@prefet80"],
    "public_page": ["public"],
    "pigeon": ["colombier"],
}
ALL_KINDS = frozenset(ChannelKind) - {ChannelKind.APPRISE}


@given(
    has_crisis=st.booleans(),
    mode=st.sampled_from([*MODES, None]),
    audience=st.sampled_from(AUDIENCES),
    channel=st.sampled_from(CHANNELS),
    exercise_kinds=st.frozensets(st.sampled_from(sorted(ALL_KINDS))),
)
def test_the_decision_never_routes_an_exercise_to_the_real_set(
    has_crisis: bool,
    mode: str | None,
    audience: str,
    channel: str,
    exercise_kinds: frozenset[ChannelKind],
) -> None:
    decision = decide(
        has_crisis=has_crisis,
        crisis_mode=mode,
        audience=audience,
        channel=channel,
        real=ALL_KINDS,
        exercise=exercise_kinds,
    )
    if decision.lane == Lane.REAL:
        assert not has_crisis or mode == "real"
    if decision.lane == Lane.EXERCISE:
        assert has_crisis and mode == "exercise" and audience == "exercise"
        assert decision.kind in exercise_kinds
    if has_crisis and mode == "exercise" and audience != "exercise":
        assert decision.lane == Lane.REFUSED and decision.isolation


@dataclass(frozen=True)
class Row:
    crisis: int | None  # index in the crisis list, or no crisis at all
    channel: str
    audience: str
    address_index: int
    flag: bool  # the message's own `exercise` flag, true or lying


rows = st.builds(
    Row,
    crisis=st.one_of(st.none(), st.integers(0, 3)),
    channel=st.sampled_from(CHANNELS),
    audience=st.sampled_from(AUDIENCES),
    address_index=st.integers(0, 2),
    flag=st.booleans(),
)


async def _scenario(
    url: str, modes: list[str], batch: list[Row], exercise_kinds: frozenset[ChannelKind]
) -> None:
    db = Database.from_url(url)
    clock = FrozenClock()
    try:
        crisis_ids = [await make_crisis(db, mode=m, now=clock.now()) for m in modes]
        for row in batch:
            choices = ADDRESSES[row.channel]
            crisis_id = crisis_ids[row.crisis % len(crisis_ids)] if row.crisis is not None else None
            await enqueue(
                db,
                now=clock.now(),
                channel=row.channel,
                addresses=[choices[row.address_index % len(choices)]],
                audience=row.audience,
                crisis_id=crisis_id,
                exercise=row.flag,
            )
        real = {k: RecordingChannel(k, f"real-{k}") for k in ALL_KINDS}
        exercise = {k: RecordingChannel(k, f"exercise-{k}") for k in exercise_kinds}
        worker = Dispatcher(
            db=db,
            real=dict[ChannelKind, Channel](real),
            exercise=dict[ChannelKind, Channel](exercise),
        )
        await worker.run(clock.now())
        await worker.aclose()
        mode_of = dict(zip(crisis_ids, modes, strict=True))
        by_key = {d.idempotency_key: d for d in await deliveries(db)}
        assert all(d.status in ("sent", "failed") for d in by_key.values())
        for fake in real.values():
            for message, _ in fake.sent:
                delivery = by_key[message.idempotency_key]
                assert delivery.crisis_id is None or mode_of[delivery.crisis_id] == "real"
                assert not message.exercise
        for fake in exercise.values():
            for message, _ in fake.sent:
                delivery = by_key[message.idempotency_key]
                assert delivery.crisis_id is not None
                assert mode_of[delivery.crisis_id] == "exercise"
                assert delivery.audience == "exercise"
                assert message.exercise and message.text.startswith("EXERCICE EXERCICE EXERCICE")
        for delivery in by_key.values():
            if delivery.crisis_id is not None and mode_of[delivery.crisis_id] != "real":
                assert delivery.provider_id is None or delivery.provider_id.startswith(
                    ("exercise-", "public_page")
                )
    finally:
        await _empty_tables(db)
        await db.dispose()


@settings(
    max_examples=20 if ON_POSTGRESQL else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    modes=st.lists(st.sampled_from(MODES), min_size=1, max_size=4),
    batch=st.lists(rows, min_size=1, max_size=25),
    exercise_kinds=st.frozensets(st.sampled_from(sorted(ALL_KINDS))),
)
def test_the_real_channels_never_receive_a_message_of_an_exercise(
    database_url: str,
    modes: list[str],
    batch: list[Row],
    exercise_kinds: frozenset[ChannelKind],
) -> None:
    asyncio.run(_scenario(database_url, modes, batch, exercise_kinds))


@pytest.fixture
async def two_sandboxes() -> AsyncIterator[tuple[Sandbox, Sandbox]]:
    async with Sandbox() as real, Sandbox() as exercise:
        yield real, exercise


def _email_only(config: ChannelsConfig) -> ChannelsConfig:
    return ChannelsConfig(smtp=config.smtp)


async def test_an_exercise_bulletin_never_reaches_a_real_mayor_whatever_the_row_says(
    db: Database, clock: FrozenClock, two_sandboxes: tuple[Sandbox, Sandbox]
) -> None:
    real, exercise = two_sandboxes
    drill = await make_crisis(db, mode="exercise", now=clock.now())
    # Deliberately inconsistent: an exercise crisis, audience officials, a real address,
    # the message not flagged as an exercise.
    await enqueue(
        db,
        now=clock.now(),
        addresses=["maire@mairie-amiens.fr"],
        audience="officials",
        crisis_id=drill,
        exercise=False,
    )
    await enqueue(
        db,
        now=clock.now(),
        addresses=["joueur@exercice.test"],
        audience="exercise",
        crisis_id=drill,
        exercise=False,
        text="Crue simulée de la Somme.",
    )
    worker = dispatcher_from_config(
        db=db,
        channels=_email_only(real.config()),
        exercise_channels=_email_only(exercise.config()),
    )
    report = await worker.run(clock.now())
    await worker.aclose()
    assert real.smtp.state.received == []
    [played] = exercise.smtp.state.received
    assert played.recipient == "joueur@exercice.test"
    assert played.text.startswith("EXERCICE EXERCICE EXERCICE")
    officials, player = await deliveries(db)
    assert officials.status == "failed"
    assert "mode exercice" in (officials.last_error or "")
    assert player.status == "sent"
    assert report.refused == 1


async def test_an_exercise_without_its_own_channel_fails_and_never_falls_back_to_the_real_one(
    db: Database, clock: FrozenClock, two_sandboxes: tuple[Sandbox, Sandbox]
) -> None:
    real, _ = two_sandboxes
    drill = await make_crisis(db, mode="exercise", now=clock.now())
    await enqueue(
        db,
        now=clock.now(),
        addresses=["joueur@exercice.test"],
        audience="exercise",
        crisis_id=drill,
    )
    worker = dispatcher_from_config(
        db=db, channels=_email_only(real.config()), exercise_channels=ChannelsConfig()
    )
    await worker.run(clock.now())
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert delivery.status == "failed"
    assert "Aucun canal d’exercice « email » configuré" in (delivery.last_error or "")
    assert real.smtp.state.received == []


async def test_a_message_without_crisis_goes_through_the_real_set(
    db: Database, clock: FrozenClock, two_sandboxes: tuple[Sandbox, Sandbox]
) -> None:
    real, exercise = two_sandboxes
    await enqueue(db, now=clock.now(), addresses=["agent@somme.gouv.fr"], audience="staff")
    worker = dispatcher_from_config(
        db=db,
        channels=_email_only(real.config()),
        exercise_channels=_email_only(exercise.config()),
    )
    await worker.run(clock.now())
    await worker.aclose()
    assert [m.recipient for m in real.smtp.state.received] == ["agent@somme.gouv.fr"]
    assert exercise.smtp.state.received == []
