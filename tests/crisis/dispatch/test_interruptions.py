"""After a crash, the journal and the tracking page state each channel's at-least-once window."""

from __future__ import annotations

import asyncio
import html
import json
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.kinds import ChannelKind
from crisis import journal
from crisis.app.db import Database
from crisis.app.web.shared_pages import STALE_FOR
from crisis.dispatch import instances, interruptions, store
from crisis.dispatch.dispatcher import Dispatcher, DispatchTuning
from crisis.dispatch.guarantees import guarantee
from crisis.dispatch.instances import INSTANCE
from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering, enqueue
from crisis.journal_details import describe
from storage.types import UTCDateTime
from tests.crisis.app.web_session import log_in
from tests.crisis.bulletin_support import published
from tests.crisis.dispatch.test_instances import HangingChannel
from tests.crisis.lifecycle_support import cod_crisis
from tests.support import FrozenClock, make_user

TELEGRAM_TWICE = "Telegram n'a pas de clé d'idempotence, ce message a pu être reçu deux fois."


async def _to_send(
    session: AsyncSession,
    channel: str,
    addresses: list[str],
    *,
    now: datetime,
    bulletin_id: int,
    crisis_id: int | None = None,
) -> None:
    """A bulletin's sends on one channel, due now."""
    await enqueue(
        session,
        purpose=Purpose.BULLETIN,
        renderings=[Rendering(channel=channel, text="Crue : évacuation.", subject="Crue")],
        requests=[
            DeliveryRequest(channel=channel, address=a, audience="officials") for a in addresses
        ],
        now=now,
        exercise=False,
        crisis_id=crisis_id,
        bulletin_id=bulletin_id,
    )


async def _bulletin_claimed_by_a_dead_instance(db: Database, clock: FrozenClock) -> tuple[int, int]:
    """A published bulletin whose 3 e-mails and 2 Telegram messages instance « a » was sending
    when it stopped beating; (crisis, bulletin)."""
    now = clock.now()
    async with db.transaction() as session:
        crisis_id = await cod_crisis(session, now=now)
    bulletin_id = await published(db, now, crisis_id=crisis_id)
    async with db.transaction() as session:
        # the publication's own deliveries are settled first: only these five are sending
        await session.execute(sa.update(store.DELIVERY).values(next_attempt_at=None, status="sent"))
        for channel, addresses in (
            ("email", ["a@x.fr", "b@x.fr", "c@x.fr"]),
            ("telegram", ["1", "2"]),
        ):
            await _to_send(
                session, channel, addresses, now=now, bulletin_id=bulletin_id, crisis_id=crisis_id
            )
        for name in ("a", "b"):
            await instances.register(session, instance_id=name, name=name, now=now)
        claimed = await store.claim(
            session, now=now, limit=10, lease=timedelta(minutes=5), claimant="a"
        )
        assert len(claimed) == 5
    await _silence(db, "a", now=now)
    return crisis_id, bulletin_id


async def _silence(db: Database, instance_id: str, *, now: datetime) -> None:
    ago = timedelta(seconds=60)
    value = (
        sa.func.now() - ago if db.dialect == "postgresql" else sa.literal(now - ago, UTCDateTime)
    )
    async with db.transaction() as session:
        await session.execute(
            sa.update(INSTANCE).where(INSTANCE.c.id == instance_id).values(heartbeat_at=value)
        )


async def _entries(db: Database) -> list[journal.JournalEntry]:
    async with db.read() as session:
        query = sa.select(journal.JournalEntry).where(
            journal.JournalEntry.action == interruptions.ACTION  # type: ignore[arg-type]
        )
        return list((await session.execute(query)).scalars())


async def test_recovering_a_dead_instances_sends_journals_each_channels_window_for_the_bulletin(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id, bulletin_id = await _bulletin_claimed_by_a_dead_instance(db, clock)
    async with db.transaction() as session:
        assert await instances.recover_dead(session, me="b", now=clock.now()) == 5
    [entry] = await _entries(db)
    assert entry.crisis_id == crisis_id
    payload = json.loads(entry.payload)
    assert payload == {
        "bulletin_id": bulletin_id,
        "count": 5,
        "channels": [
            {"channel": "email", "count": 3, "guarantee": guarantee("email")},
            {"channel": "telegram", "count": 2, "guarantee": TELEGRAM_TWICE},
        ],
    }
    detail = describe(entry.action, payload)
    assert detail.sentence.startswith(f"Communiqué n° {bulletin_id} : 5 envois interrompus")
    assert ("Telegram", f"2 envois. {TELEGRAM_TWICE}") in detail.fields
    async with db.transaction() as session:  # recovered once: no second entry
        assert await instances.recover_dead(session, me="b", now=clock.now()) == 0
    assert len(await _entries(db)) == 1


async def test_the_tracking_page_states_the_at_least_once_window_of_each_interrupted_channel(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    _, bulletin_id = await _bulletin_claimed_by_a_dead_instance(db, clock)
    user = await make_user(db, clock, "com", "communicator", "prefect")
    await log_in(client, user.login, user.password)
    before = html.unescape((await client.get(f"/communiques/{bulletin_id}/suivi")).text)
    assert "Envois interrompus" not in before
    async with db.transaction() as session:
        await instances.recover_dead(session, me="b", now=clock.now())
    clock.advance(seconds=STALE_FOR + 0.01)  # another instance's doing: past the page's copy
    page = html.unescape((await client.get(f"/communiques/{bulletin_id}/suivi")).text)
    assert "Envois interrompus par l'arrêt d'une instance" in page
    assert f"Telegram (2 envois) : {TELEGRAM_TWICE}" in page
    assert f"Courriel (3 envois) : {guarantee('email')}" in page
    live = html.unescape((await client.get(f"/fragments/communiques/{bulletin_id}/suivi")).text)
    assert TELEGRAM_TWICE in live


async def test_sends_cut_off_by_a_stop_after_its_grace_are_journaled_for_their_bulletin(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        mayors = [f"maire{n}@x.fr" for n in range(100)]
        await _to_send(session, "email", mayors, now=clock.now(), bulletin_id=7)
    channel = HangingChannel(ChannelKind.EMAIL, "courriel")
    dispatcher = Dispatcher(
        db=db,
        real={ChannelKind.EMAIL: channel},
        exercise={},
        tuning=DispatchTuning(stop_grace_seconds=0.2),
    )
    await dispatcher.tick(clock.now())
    await asyncio.wait_for(channel.full.wait(), 10)  # 64 sends under way
    await dispatcher.aclose()  # none answers within the grace
    [entry] = await _entries(db)
    assert json.loads(entry.payload) == {
        "bulletin_id": 7,
        "count": 64,  # the 36 only queued were never tried: nothing to state for them
        "channels": [{"channel": "email", "count": 64, "guarantee": guarantee("email")}],
    }


async def test_sends_whose_lease_ran_out_without_an_instance_are_journaled_when_recovered(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await _to_send(session, "telegram", ["1"], now=clock.now(), bulletin_id=9)
        lease = timedelta(minutes=5)  # claimed by no known instance: only its lease recovers it
        [_] = await store.claim(session, now=clock.now(), limit=10, lease=lease, claimant=None)
    clock.advance(minutes=10)
    dispatcher = Dispatcher(db=db, real={}, exercise={})
    report = await dispatcher.run(clock.now())
    await dispatcher.aclose()
    assert report.recovered == 1
    [entry] = await _entries(db)
    assert json.loads(entry.payload) == {
        "bulletin_id": 9,
        "count": 1,
        "channels": [{"channel": "telegram", "count": 1, "guarantee": TELEGRAM_TWICE}],
    }
