from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from contacts import geography
from contacts.demo import load_demo_directory
from contacts.directory import Contact
from contacts.targeting import target
from crisis.app.db import Database
from tests.support import FrozenClock


async def _demo(db: Database, clock: FrozenClock) -> None:
    async with db.transaction() as session:
        await load_demo_directory(session, now=clock.now())


async def test_targeting_an_arrondissement_returns_its_officials_and_the_departement_media(
    db: Database, clock: FrozenClock
) -> None:
    await _demo(db, clock)
    async with db.read() as session:
        communes = await geography.communes_of_arrondissement(session, code="804")
        index = await geography.geo_index(session)
        result = await target(
            session, communes=communes, audiences=["officials", "media"], exercise=False
        )
        contacts = (await session.exec(select(Contact))).all()
    epcis = {index.communes[c][2] for c in communes}
    expected_officials = {
        c.id
        for c in contacts
        if c.audience == "officials"
        and (
            (c.area_level == "commune" and c.area_code in communes)
            or (c.area_level == "epci" and c.area_code in epcis)
            or (c.area_level == "arrondissement" and c.area_code == "804")
            or c.area_level == "departement"
        )
    }
    media = {c.id for c in contacts if c.audience == "media"}
    got = {r.contact_id for r in result.recipients} | {t.contact_id for t in result.to_call}
    assert got == expected_officials | media
    assert {r.audience for r in result.recipients} == {"officials", "media"}
    assert all(r.channels for r in result.recipients)
    assert result.to_call, "the demo keeps about 3 % of mayors without a usable channel"
    assert all(t.function == "maire" for t in result.to_call)
    assert any(t.phones for t in result.to_call)
    functions = {r.function for r in result.recipients}
    assert {
        "maire",
        "president_epci",
        "depute",
        "senateur",
        "conseiller_departemental",
    } <= functions


async def test_channels_come_in_the_contacts_order_of_preference(
    db: Database, clock: FrozenClock
) -> None:
    await _demo(db, clock)
    async with db.read() as session:
        result = await target(session, communes=["80021"], audiences=["officials"], exercise=False)
    mayor = next(r for r in result.recipients if r.key == "demo:maire:80021")
    assert [c.kind for c in mayor.channels][:2] == ["sms", "email"]


async def test_the_demo_directory_loads_twice_without_changing(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        first = await load_demo_directory(session, now=clock.now())
    async with db.transaction() as session:
        second = await load_demo_directory(session, now=clock.now())
    assert first.added == first.contacts > 771 + 17 + 8 + 30 + 12 + 12
    assert (second.added, second.updated, second.unchanged) == (0, 0, first.contacts)
    assert 10 <= first.mayors_to_call <= 40


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    audiences=st.lists(st.sampled_from(["officials", "media", "staff", "exercise", "public"])),
    picks=st.lists(st.integers(min_value=0, max_value=770), max_size=30),
)
async def test_in_exercise_mode_no_non_exercise_contact_is_ever_returned(
    db: Database, clock: FrozenClock, audiences: list[str], picks: list[int]
) -> None:
    async with db.transaction() as session:
        if (await session.exec(select(Contact.id).limit(1))).first() is None:
            await load_demo_directory(session, now=clock.now())
        codes = sorted((await session.exec(select(geography.Commune.code))).all())
        communes = [codes[i] for i in picks]
        result = await target(session, communes=communes, audiences=audiences, exercise=True)
        exercise_ids = set(
            (await session.exec(select(Contact.id).where(Contact.audience == "exercise"))).all()
        )
    returned = {r.contact_id for r in result.recipients} | {t.contact_id for t in result.to_call}
    assert returned == exercise_ids
    assert {r.audience for r in result.recipients} == {"exercise"}
