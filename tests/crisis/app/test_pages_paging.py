"""Pages whose cost does not grow with deliveries (issue 16 item 1): the lists of people (ES48's
missing officials, the tracking page's « à appeler » and « échecs ») come a page at a time, with
the count of them all."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import sqlalchemy as sa

from crisis.app.db import Database
from crisis.dispatch.outbox import Delivery, OutboxMessage
from tests.crisis.app.web_session import log_in
from tests.crisis.bulletin_support import published
from tests.crisis.lifecycle_support import cod_crisis
from tests.support import FrozenClock, make_user


async def _cod_crisis(db: Database, clock: FrozenClock) -> int:
    async with db.transaction() as session:
        return await cod_crisis(session, now=clock.now())


async def _officials(
    db: Database, clock: FrozenClock, *, crisis_id: int, bulletin_id: int, count: int, status: str
) -> None:
    """`count` officials, one delivery each in `status`, named « Élu 000 » to « Élu nnn »."""
    at = clock.now() + timedelta(minutes=1)
    async with db.transaction() as session:
        message = OutboxMessage(purpose="bulletin", channel="phone", text="", created_at=at)
        session.add(message)
        await session.flush()
        rows = [
            {
                "message_id": message.id,
                "crisis_id": crisis_id,
                "bulletin_id": bulletin_id,
                "purpose": "bulletin",
                "audience": "officials",
                "contact_id": 10_000 + n,
                "recipient_name": f"Élu {n:03d}",
                "channel": "phone",
                "address": f"+3335301{n:04d}",
                "status": status,
                "idempotency_key": uuid.uuid4().hex,
                "created_at": at,
            }
            for n in range(count)
        ]
        await (await session.connection()).execute(sa.insert(Delivery), rows)


async def _logged_in(client: httpx.AsyncClient, db: Database, clock: FrozenClock) -> None:
    user = await make_user(db, clock, "com", "communicator", "prefect")
    await log_in(client, user.login, user.password)


async def test_the_crisis_page_names_the_first_officials_missing_and_links_to_all_of_them(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await _cod_crisis(db, clock)
    await _officials(db, clock, crisis_id=crisis_id, bulletin_id=1, count=130, status="failed")
    await _logged_in(client, db, clock)
    page = (await client.get(f"/evenements/{crisis_id}")).text
    assert "Élu 029" in page and "Élu 030" not in page and "et 100 autres" in page
    assert f'href="/evenements/{crisis_id}/es48-manquants?public=officials"' in page
    first = (await client.get(f"/evenements/{crisis_id}/es48-manquants?public=officials")).text
    named = re.findall(r"<li>(Élu \d+)</li>", first)
    assert named == [f"Élu {n:03d}" for n in range(100)]
    assert "0 informés sur 130 ; 130 en attente" in first and "Page suivante" in first
    second = await client.get(f"/evenements/{crisis_id}/es48-manquants?public=officials&page=2")
    assert re.findall(r"<li>(Élu \d+)</li>", second.text) == [f"Élu {n}" for n in range(100, 130)]


async def test_the_tracking_page_lists_the_people_to_call_fifty_at_a_time_and_counts_them_all(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await _cod_crisis(db, clock)
    bulletin_id = await published(db, clock.now(), crisis_id=crisis_id)
    await _officials(
        db, clock, crisis_id=crisis_id, bulletin_id=bulletin_id, count=70, status="to_call"
    )
    await _logged_in(client, db, clock)
    first = (await client.get(f"/communiques/{bulletin_id}/suivi")).text
    assert "À appeler (70)" in first and "Personnes 1 à 50 sur 70." in first
    assert len(re.findall(r"Note d'appel pour Élu", first)) == 50
    assert f"/communiques/{bulletin_id}/suivi?appeler=2&amp;echecs=1" in first
    second = (await client.get(f"/communiques/{bulletin_id}/suivi?appeler=2")).text
    assert "Personnes 51 à 70 sur 70." in second
    assert len(re.findall(r"Note d'appel pour Élu", second)) == 20
    live = (await client.get(f"/fragments/communiques/{bulletin_id}/suivi?appeler=2")).text
    assert "Personnes 51 à 70 sur 70." in live


async def test_the_api_lists_every_official_es48_still_waits_for_as_the_contract_says(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await _cod_crisis(db, clock)
    await _officials(db, clock, crisis_id=crisis_id, bulletin_id=1, count=130, status="failed")
    await _logged_in(client, db, clock)
    for path in (f"/api/v1/crises/{crisis_id}", f"/api/v1/crises/{crisis_id}/clocks"):
        body = (await client.get(path)).json()
        clocks = body["clocks"] if isinstance(body, dict) else body
        es48 = next(c for c in clocks if c["code"] == "ES48")
        missing = es48["coverage"]["officials"]["missing"]
        assert missing == [f"Élu {n:03d}" for n in range(130)], path
