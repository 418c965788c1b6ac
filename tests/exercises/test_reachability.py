"""The reachability test: the fixed text, to officials' private channels, sent by a prefect,
at most once per window per official, journaled, and its result (unreachable, silent)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from channels.base import Channel, Message
from channels.kinds import ChannelKind
from contacts.directory import ContactChannel
from crisis.app.db import Database
from crisis.dispatch.dispatcher import Dispatcher
from crisis.dispatch.outbox import Delivery, DeliveryStatus, OutboxMessage
from crisis.journal import JournalEntry
from exercises import reachability
from exercises.errors import DrillConflict, DrillRefused
from exercises.reachability import TEXT, Reached
from tests.conftest import ON_POSTGRESQL, _empty_tables
from tests.crisis.dispatch_support import RecordingChannel
from tests.crisis.lifecycle_support import add_contact
from tests.exercises.support import TRAINER
from tests.support import FrozenClock

MAYOR_MAIL = ("email", "")


async def _mayor(db: Database, clock: FrozenClock, name: str, *more: tuple[str, str]) -> int:
    async with db.transaction() as session:
        cid = await add_contact(
            session, name=name, audience="officials", channel=MAYOR_MAIL, now=clock.now()
        )
        for kind, address in more:
            session.add(ContactChannel(contact_id=cid, kind=kind, address=address, preference=1))
        return cid


async def _send(db: Database, clock: FrozenClock, ids: list[int], **kw: object) -> Reached:
    async with db.transaction() as session:
        return await reachability.send(
            session,
            actor=TRAINER,
            approved_by=kw.pop("approved_by", "prefet"),  # type: ignore[arg-type]
            officials=ids,
            now=clock.now(),
            **kw,  # type: ignore[arg-type]
        )


async def _count(db: Database, table: type[object]) -> int:
    async with db.read() as session:
        return len((await session.exec(select(table))).all())  # type: ignore[call-overload]


@pytest.mark.asyncio
async def test_each_private_channel_of_each_official_gets_the_fixed_text_and_the_send_is_journaled(
    db: Database, clock: FrozenClock
) -> None:
    first = await _mayor(db, clock, "Anne Maire", ("sms", "+33611111111"), ("x", "@anne"))
    second = await _mayor(db, clock, "Paul Maire")
    reached = await _send(db, clock, [first, second])
    assert reached.deliveries == 3
    async with db.read() as session:
        rows = (await session.exec(select(Delivery))).all()
        texts = {m.text for m in (await session.exec(select(OutboxMessage))).all()}
        entry = (
            await session.exec(
                select(JournalEntry).where(JournalEntry.action == "exercise.reachability_sent")
            )
        ).one()
    assert texts == {TEXT}
    assert sorted((d.contact_id, d.channel) for d in rows) == sorted(
        [(first, "email"), (first, "sms"), (second, "email")]
    )
    assert {d.crisis_id for d in rows} == {None}
    assert entry.actor == "formatrice" and '"approved_by":"prefet"' in entry.payload
    assert '"deliveries":3' in entry.payload.replace(" ", "")


@pytest.mark.asyncio
async def test_nothing_is_sent_without_the_prefects_approval(
    db: Database, clock: FrozenClock
) -> None:
    mayor = await _mayor(db, clock, "Anne Maire")
    with pytest.raises(DrillConflict) as refused:
        await _send(db, clock, [mayor], approved_by=None)
    assert refused.value.code == "not_approved"
    assert await _count(db, Delivery) == 0 and await _count(db, JournalEntry) == 0


@pytest.mark.asyncio
async def test_only_active_officials_may_be_reached(db: Database, clock: FrozenClock) -> None:
    mayor = await _mayor(db, clock, "Anne Maire")
    async with db.transaction() as session:
        journalist = await add_contact(
            session, name="Jean Presse", audience="media", now=clock.now()
        )
    with pytest.raises(DrillRefused) as refused:
        await _send(db, clock, [mayor, journalist])
    assert refused.value.code == "not_official"
    with pytest.raises(DrillRefused):
        await _send(db, clock, [])
    assert await _count(db, Delivery) == 0


@pytest.mark.asyncio
async def test_an_official_reached_inside_the_window_refuses_the_whole_send_with_the_names(
    db: Database, clock: FrozenClock
) -> None:
    anne = await _mayor(db, clock, "Anne Maire")
    await _send(db, clock, [anne])
    paul = await _mayor(db, clock, "Paul Maire")
    clock.advance(days=29, hours=23)
    with pytest.raises(DrillConflict) as conflict:
        await _send(db, clock, [paul, anne])
    assert conflict.value.code == "reachability_too_soon"
    assert "Anne Maire" in conflict.value.message and "Paul" not in conflict.value.message
    assert await _count(db, Delivery) == 1
    clock.advance(hours=1)
    assert (await _send(db, clock, [paul, anne])).deliveries == 2


@pytest.mark.asyncio
async def test_the_window_is_a_setting(db: Database, clock: FrozenClock) -> None:
    anne = await _mayor(db, clock, "Anne Maire")
    await _send(db, clock, [anne], window=timedelta(days=7))
    clock.advance(days=7)
    assert (await _send(db, clock, [anne], window=timedelta(days=7))).deliveries == 1


@pytest.mark.asyncio
async def test_the_result_names_who_failed_on_every_channel_and_who_never_answered(
    db: Database, clock: FrozenClock
) -> None:
    failed = await _mayor(db, clock, "Anne Injoignable", ("sms", "+33611111111"))
    half = await _mayor(db, clock, "Bruno Moitié", ("sms", "+33622222222"))
    answering = await _mayor(db, clock, "Chloé Répond")
    silent = await _mayor(db, clock, "Denis Silence")
    reached = await _send(db, clock, [failed, half, answering, silent])
    async with db.transaction() as session:  # the dispatcher's and the replies' outcomes
        await session.exec(
            sa.update(Delivery)
            .where(col(Delivery.contact_id) == failed)
            .values(status=DeliveryStatus.FAILED, next_attempt_at=None)
        )
        await session.exec(
            sa.update(Delivery)
            .where(col(Delivery.contact_id) == half, col(Delivery.channel) == "sms")
            .values(status=DeliveryStatus.FAILED, next_attempt_at=None)
        )
        await session.exec(
            sa.update(Delivery)
            .where(col(Delivery.contact_id) == answering)
            .values(status=DeliveryStatus.CONFIRMED, next_attempt_at=None)
        )
    async with db.read() as session:
        found = await reachability.result(
            session, officials=reached.officials, message_ids=list(reached.messages.values())
        )
    assert [i for i, _ in found.unreachable] == [failed]
    assert [i for i, _ in found.silent] == sorted([half, silent])
    assert found.answered == [(answering, "Chloé Répond")]


PRIVATE = ("email", "sms", "telegram", "matrix")
ADDRESSES = {
    "email": "elu{}@somme.fr",
    "sms": "+336120000{:02d}",
    "telegram": "5550{}",
    "matrix": "@elu{}:tchap.gouv.fr",
    "webhook": "https://example.org/hook/{}",
}
KINDS = ["email", "sms", "telegram", "matrix", "x", "mastodon", "webhook", "apprise", "phone"]
AUDIENCES = ["officials", "media", "staff", "exercise"]
DATABASE_PROPERTY = settings(
    max_examples=10 if ON_POSTGRESQL else 25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Person:
    """A generated directory entry: its audience, its addresses' kinds, named in the send."""

    audience: str
    kinds: tuple[str, ...]
    named: bool


people = st.builds(
    Person,
    audience=st.sampled_from(AUDIENCES),
    kinds=st.lists(st.sampled_from(KINDS), max_size=4, unique=True).map(tuple),
    named=st.booleans(),
)


async def _scenario(url: str, crowd: list[Person], approved: bool) -> None:
    db = Database.from_url(url)
    clock = FrozenClock()
    try:
        directory: dict[int, Person] = {}
        async with db.transaction() as session:
            for index, person in enumerate(crowd):
                cid = await add_contact(
                    session,
                    name=f"Personne{index} Générée",
                    audience=person.audience,
                    channel=None,
                    now=clock.now(),
                )
                for kind in person.kinds:
                    address = ADDRESSES.get(kind, "@prefet80{}").format(cid)
                    session.add(ContactChannel(contact_id=cid, kind=kind, address=address))
                directory[cid] = person
        named = [c for c, p in directory.items() if p.named]
        try:
            await _send(db, clock, named, approved_by="prefet" if approved else None)
        except (DrillRefused, DrillConflict):
            assert (
                not approved
                or not named
                or any(directory[c].audience != "officials" for c in named)
            )
            assert await _count(db, Delivery) == 0
            return
        real = {k: RecordingChannel(k, f"real-{k}") for k in ChannelKind}
        worker = Dispatcher(db=db, real=dict[ChannelKind, Channel](real), exercise={})
        await worker.run(clock.now())
        await worker.aclose()
        sent: list[tuple[ChannelKind, Message]] = [
            (k, m) for k, fake in real.items() for m, _ in fake.sent
        ]
        assert {m.text for _, m in sent} <= {TEXT}
        assert {k.value for k, _ in sent} <= set(PRIVATE)
        async with db.read() as session:
            rows = (await session.exec(select(Delivery))).all()
        assert {d.contact_id for d in rows} <= set(named)
        assert all(directory[c].audience == "officials" for c in named)
        assert len(sent) == sum(1 for c in named for k in directory[c].kinds if k in PRIVATE)
    finally:
        await _empty_tables(db)
        await db.dispose()


@DATABASE_PROPERTY
@given(crowd=st.lists(people, max_size=6), approved=st.booleans())
def test_no_generated_request_makes_a_reachability_test_send_another_text_or_use_a_public_channel(
    database_url: str, crowd: list[Person], approved: bool
) -> None:
    asyncio.run(_scenario(database_url, crowd, approved))
