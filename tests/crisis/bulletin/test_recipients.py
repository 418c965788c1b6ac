"""Before publishing, who will receive the bulletin, counted by the database with the fan-out's
own selection: the counts match what the publication then writes, in a real crisis and in an
exercise."""

from __future__ import annotations

import sqlalchemy as sa

from crisis.app.db import Database
from crisis.bulletin import publication
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.recipients import recipients
from crisis.dispatch.outbox import Delivery
from crisis.vocabulary import CrisisMode
from tests.crisis.bulletin_support import (
    AMIENS,
    COMMUNICATOR,
    POLICY,
    approved,
    declare,
    load_directory,
)
from tests.support import FrozenClock


async def _people_written(db: Database, bulletin_id: int) -> tuple[int, int]:
    """(people reached or to call, people to call) in the bulletin's deliveries."""
    d = Delivery.__table__  # type: ignore[attr-defined]
    async with db.read() as session:
        conn = await session.connection()
        people = sa.select(sa.func.count(sa.distinct(d.c.contact_id))).where(
            d.c.bulletin_id == bulletin_id, d.c.contact_id.is_not(None)
        )
        calls = people.where(d.c.status == "to_call")
        return (await conn.scalar(people)) or 0, (await conn.scalar(calls)) or 0


async def _counted_then_published(db: Database, now: object, bulletin_id: int) -> str:
    async with db.read() as session:
        bulletin = await bulletins.get(session, bulletin_id=bulletin_id)
        found = await recipients(session, bulletin=bulletin, policy=POLICY)
    async with db.transaction() as session:
        await publication.publish(
            session, actor=COMMUNICATOR, bulletin_id=bulletin_id, policy=POLICY, now=now
        )  # type: ignore[arg-type]
    people, calls = await _people_written(db, bulletin_id)
    assert sum(r.targeted for r in found.people.values()) == people
    assert found.to_call == calls
    return found.sentence()


async def test_the_counts_before_publishing_are_what_the_fan_out_writes(
    db: Database, clock: FrozenClock
) -> None:
    await load_directory(db, clock.now())
    crisis_id = await declare(db, clock.now())
    bulletin_id = await approved(
        db,
        clock.now(),
        crisis_id=crisis_id,
        audiences=["officials", "media", "public"],
        channels=["sms", "x", "mastodon", "public_page"],
        communes=["80001", AMIENS],
    )
    sentence = await _counted_then_published(db, clock.now(), bulletin_id)
    # Abbeville and Amiens: four officials, one with SMS; the newsroom by e-mail only.
    assert sentence == (
        "4 élus (3 à appeler), 1 média (1 à appeler), 2 comptes publics et la page publique"
    )


async def test_in_an_exercise_the_participants_and_the_sandbox_accounts_are_counted(
    db: Database, clock: FrozenClock
) -> None:
    await load_directory(db, clock.now())
    crisis_id = await declare(db, clock.now(), mode=CrisisMode.EXERCISE)
    bulletin_id = await approved(
        db,
        clock.now(),
        crisis_id=crisis_id,
        audiences=["officials", "media", "public"],
        channels=["email", "x", "public_page"],
    )
    sentence = await _counted_then_published(db, clock.now(), bulletin_id)
    assert sentence == (
        "3 participants à l'exercice (1 à appeler ; jouant 2 élus et 1 média),"
        " 1 compte de bac à sable et la page publique"
    )
