"""A Telegram update redelivered after a slow or failed answer changes nothing the second time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.sandbox import Sandbox
from crisis import inbound_updates, journal
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.dispatch.outbox import Delivery
from crisis.vocabulary import CrisisMode
from tests.crisis.app.reply_support import (
    EXERCISE_TELEGRAM_SECRET,
    TELEGRAM_SECRET,
    dispatch,
    tocsin_served,
    with_inbound_secrets,
)
from tests.crisis.bulletin_support import declare, load_directory, person, published
from tests.support import FrozenClock

CHAT = 7001
MAYOR = person("maire", "officials", [("telegram", str(CHAT))])
PLAYER = person("joueur-maire", "exercise", [("telegram", str(CHAT))])  # the mayor plays


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(enforce_telegram_limits=False) as running:  # two messages to one chat
        yield running


@pytest.fixture
def inbound(settings: Settings) -> Settings:
    return with_inbound_secrets(settings)


async def _publish(db: Database, clock: FrozenClock, crisis_id: int) -> int:
    return await published(
        db,
        clock.now(),
        crisis_id=crisis_id,
        audiences=["officials"],
        channels=["telegram"],
        confirm_receipt=True,
    )


async def _declared_with_the_mayor(db: Database, clock: FrozenClock) -> int:
    crisis_id = await declare(db, clock.now())
    await load_directory(db, clock.now(), [MAYOR])
    return crisis_id


def _update(update_id: int, text: str = "OK") -> dict[str, Any]:
    chat = {"id": CHAT, "type": "private"}
    return {"update_id": update_id, "message": {"message_id": 90, "chat": chat, "text": text}}


async def _post(url: str, update: dict[str, Any], secret: str = TELEGRAM_SECRET) -> Any:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{url}/api/v1/inbound/telegram",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        )
    assert response.status_code == 200, response.text
    return response.json()


async def _statuses(db: Database, *bulletin_ids: int) -> list[str]:
    async with db.read() as session:
        query = select(Delivery).where(col(Delivery.bulletin_id).in_(bulletin_ids))
        return [d.status for d in (await session.exec(query.order_by(col(Delivery.id)))).all()]


async def _actions(db: Database) -> list[str]:
    async with db.read() as session:
        query = select(journal.JournalEntry.action).where(
            col(journal.JournalEntry.action).in_(["delivery.confirmed", "reply.unrecognised"])
        )
        return sorted((await session.exec(query)).all())


async def test_the_same_update_posted_twice_confirms_once_and_journals_once(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    crisis_id = await _declared_with_the_mayor(db, clock)
    bulletin_id = await _publish(db, clock, crisis_id)
    await dispatch(db, clock, inbound, sandbox)
    async with tocsin_served(inbound, db, clock, sandbox) as url:
        first = await _post(url, _update(500))
        again = await _post(url, _update(500))
    assert first["outcome"] == "confirmed"
    assert again == {"ok": True, "outcome": "duplicate", "reason": None, "delivery_id": None}
    assert await _statuses(db, bulletin_id) == ["confirmed"]
    assert await _actions(db) == ["delivery.confirmed"]


async def test_a_new_update_with_the_same_text_is_a_new_reply(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    crisis_id = await _declared_with_the_mayor(db, clock)
    older = await _publish(db, clock, crisis_id)
    clock.advance(minutes=1)
    newer = await _publish(db, clock, crisis_id)
    await dispatch(db, clock, inbound, sandbox)
    async with tocsin_served(inbound, db, clock, sandbox) as url:
        outcomes = [(await _post(url, _update(n)))["outcome"] for n in (500, 500, 501, 502)]
    assert outcomes == ["confirmed", "duplicate", "confirmed", "unrecognised"]
    assert await _statuses(db, older, newer) == ["confirmed", "confirmed"]
    assert await _actions(db) == ["delivery.confirmed"] * 2 + ["reply.unrecognised"]


async def test_the_real_and_the_exercise_bots_number_their_updates_apart(
    db: Database, clock: FrozenClock, inbound: Settings, sandbox: Sandbox
) -> None:
    real_id = await declare(db, clock.now())
    drill_id = await declare(db, clock.now(), mode=CrisisMode.EXERCISE)
    await load_directory(db, clock.now(), [MAYOR, PLAYER])
    real = await _publish(db, clock, real_id)
    drill = await _publish(db, clock, drill_id)
    await dispatch(db, clock, inbound, sandbox)
    async with tocsin_served(inbound, db, clock, sandbox) as url:
        played = await _post(url, _update(500), EXERCISE_TELEGRAM_SECRET)
        genuine = await _post(url, _update(500))
    assert (played["outcome"], genuine["outcome"]) == ("confirmed", "confirmed")
    assert await _statuses(db, drill) == await _statuses(db, real) == ["confirmed"]


async def test_an_update_handled_days_ago_is_forgotten(db: Database, clock: FrozenClock) -> None:
    async def claim(update_id: int) -> bool:
        async with db.transaction() as session:
            return await inbound_updates.claim(
                session, source="telegram:real", update_id=update_id, now=clock.now()
            )

    assert (await claim(1), await claim(1)) == (True, False)
    clock.advance(days=2)
    assert (await claim(2), await claim(1)) == (True, False)
    clock.advance(days=1, seconds=1)
    assert (await claim(3), await claim(1), await claim(2)) == (True, True, False)


async def _until_someone_waits(session: AsyncSession) -> None:
    """On PostgreSQL, return once another transaction waits for a lock (ours)."""
    if (await session.connection()).dialect.name != "postgresql":
        return  # SQLite: the other writer waits for our commit in BEGIN IMMEDIATE anyway
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(10_000):
        await session.execute(sa.text("SELECT pg_stat_clear_snapshot()"))  # fresh each time
        if (await session.execute(waiting)).scalar_one():
            return
    raise AssertionError("the second claim never waited")


async def test_a_redelivery_racing_the_first_arrival_waits_for_it_and_changes_nothing(
    db: Database, database_url: str, clock: FrozenClock
) -> None:
    other = Database.from_url(database_url)

    async def second_instance() -> bool:
        async with other.transaction() as session:
            return await inbound_updates.claim(
                session, source="telegram:real", update_id=9, now=clock.now()
            )

    try:
        async with db.transaction() as session:
            first = await inbound_updates.claim(
                session, source="telegram:real", update_id=9, now=clock.now()
            )
            racing = asyncio.create_task(second_instance())
            await _until_someone_waits(session)
        assert (first, await racing) == (True, False)
    finally:
        await other.dispose()
