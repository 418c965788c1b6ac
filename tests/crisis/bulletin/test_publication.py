"""Publication: one delivery per recipient and channel, to-call, public channels, exercises."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from contacts.directory import Contact
from crisis.app.db import Database
from crisis.bulletin import confirmations, escalation, publication
from crisis.bulletin import workflow as bulletins
from crisis.dispatch.outbox import Delivery, OutboxMessage, Purpose
from crisis.errors import NotFound
from crisis.vocabulary import CrisisMode
from tests.conftest import _empty_tables
from tests.crisis.bulletin_support import (
    ABBEVILLE,
    AMIENS,
    COMMUNICATOR,
    OPERATOR,
    POLICY,
    approved,
    declare,
    load_directory,
)
from tests.support import FrozenClock

SECRET = "secret-de-test"


async def _published(
    db: Database, clock: FrozenClock, *, mode: CrisisMode = CrisisMode.REAL, **changes: object
) -> tuple[int, list[Delivery]]:
    crisis_id = await declare(db, clock.now(), mode=mode)
    await load_directory(db, clock.now())
    bulletin_id = await approved(db, clock.now(), crisis_id=crisis_id, **changes)
    async with db.transaction() as session:
        await publication.publish(
            session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=clock.now()
        )
    return bulletin_id, await _deliveries(db, bulletin_id)


async def _deliveries(db: Database, bulletin_id: int) -> list[Delivery]:
    async with db.read() as session:
        query = (
            select(Delivery).where(Delivery.bulletin_id == bulletin_id).order_by(col(Delivery.id))
        )
        return list((await session.exec(query)).all())


def _summary(rows: list[Delivery]) -> set[tuple[str, str, str, str]]:
    return {(d.audience, d.recipient_name, d.channel, d.status) for d in rows}


async def test_publishing_writes_one_delivery_per_person_and_channel_plus_the_public_channels(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id, rows = await _published(db, clock)
    assert _summary(rows) == {
        ("officials", "Camille MAIRE-ABBEVILLE", "sms", "pending"),
        ("officials", "Camille MAIRE-ABBEVILLE", "email", "pending"),
        ("officials", "Camille ADJOINT-ABBEVILLE", "email", "pending"),
        ("officials", "Camille MAIRE-SANS-CANAL", "phone", "to_call"),
        ("media", "Camille REDACTION", "email", "pending"),
        ("public", "", "x", "pending"),
        ("public", "", "telegram", "pending"),
        ("public", "Page publique", "public_page", "sent"),
    }
    to_call = next(d for d in rows if d.status == "to_call")
    assert to_call.address == "+33353010001"
    page = next(d for d in rows if d.channel == "public_page")
    async with db.read() as session:
        public_id = (await bulletins.get(session, bulletin_id=bulletin_id)).public_id
    assert page.sent_at == clock.now() and page.address.endswith(f"/public/bulletins/{public_id}")
    assert all(d.purpose == Purpose.BULLETIN and d.played_audience is None for d in rows)
    assert all(d.contact_id is not None for d in rows if d.audience != "public")


async def test_the_area_decides_which_officials_are_reached(
    db: Database, clock: FrozenClock
) -> None:
    _, rows = await _published(db, clock, communes=[AMIENS], audiences=["officials"])
    assert {d.recipient_name for d in rows} == {"Camille MAIRE-AMIENS"}


async def test_a_cascade_sends_rank_k_after_k_times_the_delay_grouped_by_person(
    db: Database, clock: FrozenClock
) -> None:
    _, rows = await _published(
        db, clock, audiences=["officials"], strategy="cascade", cascade_minutes=10
    )
    mayor = sorted(
        (d for d in rows if d.recipient_name == "Camille MAIRE-ABBEVILLE"),
        key=lambda d: d.cascade_rank,
    )
    assert [(d.channel, d.cascade_rank) for d in mayor] == [("sms", 0), ("email", 1)]
    assert mayor[1].next_attempt_at - mayor[0].next_attempt_at == timedelta(minutes=10)
    assert mayor[0].cascade_group == mayor[1].cascade_group is not None


async def test_a_failed_rank_brings_the_next_one_forward_and_a_sent_rank_ends_the_cascade(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id, rows = await _published(
        db, clock, audiences=["officials"], strategy="cascade", cascade_minutes=10
    )
    mayor = [d for d in rows if d.recipient_name == "Camille MAIRE-ABBEVILLE"]
    async with db.transaction() as session:
        await session.exec(
            sa.update(Delivery)
            .where(col(Delivery.id) == mayor[0].id)
            .values(status="failed", next_attempt_at=None)
        )
        now = clock.advance(minutes=1)
        advanced, _ = await escalation.advance_cascades(session, now=now)
    assert advanced == 1
    after = {d.id: d for d in await _deliveries(db, bulletin_id)}
    assert after[mayor[1].id].next_attempt_at == now


async def test_an_official_with_nothing_delivered_goes_to_the_call_list_once(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id, rows = await _published(db, clock, audiences=["officials"])
    adjoint = next(d for d in rows if d.recipient_name == "Camille ADJOINT-ABBEVILLE")
    async with db.transaction() as session:
        await session.exec(
            sa.update(Delivery)
            .where(col(Delivery.id) == adjoint.id)
            .values(status="failed", next_attempt_at=None)
        )
        await session.exec(
            sa.update(Delivery)
            .where(col(Delivery.recipient_name) == "Camille MAIRE-ABBEVILLE")
            .values(status="sent", next_attempt_at=None)
        )
    after = timedelta(minutes=15)
    async with db.transaction() as session:
        assert (
            await escalation.escalate_to_call(session, now=clock.advance(minutes=5), after=after)
            == 0
        )
    for _ in range(2):
        async with db.transaction() as session:
            await escalation.tick(session, now=clock.advance(minutes=11), to_call_after=after)
    calls = [d for d in await _deliveries(db, bulletin_id) if d.status == "to_call"]
    assert sorted(d.recipient_name for d in calls) == [
        "Camille ADJOINT-ABBEVILLE",
        "Camille MAIRE-SANS-CANAL",
    ]


async def test_a_confirmation_link_confirms_once_and_cancels_what_still_waits_for_that_person(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id, rows = await _published(
        db,
        clock,
        audiences=["officials"],
        strategy="cascade",
        cascade_minutes=10,
        confirm_receipt=True,
    )
    first, second = sorted(
        (d for d in rows if d.recipient_name == "Camille MAIRE-ABBEVILLE"),
        key=lambda d: d.cascade_rank,
    )
    assert first.id is not None
    token = confirmations.token_for(first.id, secret=SECRET)
    for expected_already in (False, True):
        async with db.transaction() as session:
            done = await confirmations.confirm_by_link(
                session, token=token, secret=SECRET, now=clock.now()
            )
        assert done.already is expected_already
    after = {d.id: d for d in await _deliveries(db, bulletin_id)}
    assert after[first.id].status == "confirmed" and after[first.id].confirm_method == "link"
    assert after[second.id].status == "cancelled"


async def test_a_forged_confirmation_token_is_refused(db: Database, clock: FrozenClock) -> None:
    token = confirmations.token_for(1, secret="another-secret")
    async with db.transaction() as session:
        with pytest.raises(NotFound) as refused:
            await confirmations.confirm_by_link(
                session, token=token, secret=SECRET, now=clock.now()
            )
    assert refused.value.code == "invalid_token"


async def test_the_rendering_sent_to_people_carries_the_confirmation_placeholder_only_for_them(
    db: Database, clock: FrozenClock
) -> None:
    bulletin_id, _ = await _published(db, clock, confirm_receipt=True)
    async with db.read() as session:
        messages = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.bulletin_id == bulletin_id)
            )
        ).all()
    with_link = {m.channel for m in messages if "{lien_confirmation}" in m.text}
    public = {m.channel for m in messages if "{lien_confirmation}" not in m.text}
    assert with_link == {"email", "sms"}
    assert {"x", "telegram", "public_page", "phone"} <= public
    text = next(m.text for m in messages if m.channel == "email")
    personal = confirmations.personalise(text, delivery_id=7, secret=SECRET, base_url="https://t")
    assert "https://t/confirmer/" in personal and "{lien_confirmation}" not in personal


async def test_an_operator_logs_a_call_which_confirms_the_to_call_delivery(
    db: Database, clock: FrozenClock
) -> None:
    _, rows = await _published(db, clock, audiences=["officials"])
    call = next(d for d in rows if d.status == "to_call")
    assert call.id is not None
    async with db.transaction() as session:
        done = await confirmations.confirm_by_phone(
            session, actor=OPERATOR, delivery_id=call.id, note="Joint à 14 h 20.", now=clock.now()
        )
    assert done.delivery.status == "confirmed" and done.delivery.confirm_method == "phone"
    assert done.delivery.confirmed_by == "operateur"


async def test_an_exercise_reaches_only_exercise_contacts_and_sandbox_accounts(
    db: Database, clock: FrozenClock
) -> None:
    _, rows = await _published(db, clock, mode=CrisisMode.EXERCISE)
    assert {d.audience for d in rows} == {"exercise"}
    assert {d.played_audience for d in rows} == {"officials", "media", "public"}
    assert {
        d.address for d in rows if d.played_audience == "public" and d.channel != "public_page"
    } == {
        "@bac_a_sable",
        "@bac_a_sable_exercice",
    }
    names = {d.recipient_name for d in rows if d.contact_id is not None}
    assert names == {"Camille JOUEUR-1", "Camille JOUEUR-2", "Camille JOUEUR-3"}


AUDIENCE_SETS = st.lists(
    st.sampled_from(["officials", "media", "public", "staff"]), min_size=1, unique=True
)
CHANNEL_SETS = st.lists(
    st.sampled_from(["email", "sms", "telegram", "matrix", "x", "public_page"]),
    min_size=1,
    unique=True,
)
COMMUNE_SETS = st.lists(
    st.sampled_from([ABBEVILLE, AMIENS, "80016", "80829"]), min_size=0, max_size=3, unique=True
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(audiences=AUDIENCE_SETS, channels=CHANNEL_SETS, communes=COMMUNE_SETS, cascade=st.booleans())
def test_whatever_an_exercise_bulletin_names_every_delivery_is_an_exercise_one(
    database_url: str,
    audiences: list[str],
    channels: list[str],
    communes: list[str],
    cascade: bool,
) -> None:
    async def scenario() -> None:
        db = Database.from_url(database_url)
        clock = FrozenClock()
        try:
            if "public" not in audiences:
                wanted = [c for c in channels if c not in ("x", "public_page")] or ["email"]
            else:
                wanted = channels
            _, rows = await _published(
                db,
                clock,
                mode=CrisisMode.EXERCISE,
                audiences=audiences,
                channels=wanted,
                communes=communes or None,
                strategy="cascade" if cascade else "all",
                cascade_minutes=5,
            )
            async with db.read() as session:
                exercise_ids = set(
                    (
                        await session.exec(select(Contact.id).where(Contact.audience == "exercise"))
                    ).all()
                )
            assert all(d.audience == "exercise" for d in rows)
            assert all(d.contact_id in exercise_ids for d in rows if d.contact_id is not None)
            assert all(d.played_audience in audiences for d in rows)
            public = [d for d in rows if d.contact_id is None and d.channel != "public_page"]
            assert all(d.address in POLICY.exercise_public_accounts.values() for d in public)
        finally:
            await _empty_tables(db)
            await db.dispose()

    asyncio.run(scenario())
