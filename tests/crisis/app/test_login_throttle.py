"""Issue 15, item 6: wrong passwords slow one address down for one login, never lock it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import func, select

from crisis import journal
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.logins import LoginFailure
from tests.crisis.app.web_session import csrf_of
from tests.support import FrozenClock, TestUser, make_user

OTHER_ADDRESS = ("203.0.113.9", 40000)


@pytest.fixture
async def other_client(
    settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The same service reached from another source address."""
    app = create_app(settings, clock=clock, database=db)
    transport = httpx.ASGITransport(app=app, client=OTHER_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


async def _try(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    token = csrf_of((await client.get("/connexion")).text)
    return await client.post(
        "/connexion", data={"login": login, "password": password, "csrf_token": token}
    )


async def _journal_length(db: Database) -> int:
    async with db.read() as session:
        return await journal.length(session)


async def test_failures_from_one_address_do_not_lock_the_prefect_out_from_another(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    for _ in range(10):  # the attacker, from the default address
        assert (await _try(client, "prefet", "devine")).status_code in (401, 429)
    assert (await _try(client, "prefet", prefect.password)).status_code == 429
    answer = await _try(other_client, "prefet", prefect.password)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert (await other_client.get("/")).status_code == 200


async def test_the_delay_doubles_per_failure_and_even_the_right_password_waits_for_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    for _ in range(4):  # free attempts
        answer = await _try(client, "prefet", "devine")
        assert answer.status_code == 401 and "retry-after" not in answer.headers
    fifth = await _try(client, "prefet", "devine")
    assert fifth.status_code == 401 and fifth.headers["retry-after"] == "30"
    refused = await _try(client, "prefet", prefect.password)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
    assert "réessayez dans 30 s (à 15 h 00)" in refused.text  # 14:00 UTC is 15 h in Paris
    assert "Même le bon mot de passe est refusé avant." in refused.text
    clock.advance(seconds=30)
    assert (await _try(client, "prefet", "devine")).headers["retry-after"] == "60"
    clock.advance(seconds=59)
    late = await _try(client, "prefet", prefect.password)
    assert late.status_code == 429 and late.headers["retry-after"] == "1"
    clock.advance(seconds=1)
    assert (await _try(client, "prefet", prefect.password)).status_code == 303


async def test_the_delay_stops_growing_at_its_ceiling(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    await make_user(db, clock, "prefet", "prefect")
    delays = []
    for _ in range(12):
        answer = await _try(client, "prefet", "devine")
        delays.append(int(answer.headers.get("retry-after", "0")))
        clock.advance(seconds=delays[-1])
    assert delays == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]


async def test_a_loop_of_200_bad_passwords_adds_one_journal_entry_not_200(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    await make_user(db, clock, "prefet", "prefect")
    before = await _journal_length(db)
    statuses = [(await _try(client, "prefet", f"essai-{n}")).status_code for n in range(200)]
    assert statuses.count(401) == 5 and statuses.count(429) == 195
    assert await _journal_length(db) == before + 1
    async with db.read() as session:
        entry = (await journal.recent(session, limit=1))[0]
        failures = (await session.exec(select(func.count()).select_from(LoginFailure))).one()
    assert entry.action == "auth.login_throttled"
    payload = json.loads(entry.payload)
    assert payload["login"] == "prefet" and payload["client"] == "127.0.0.1"
    assert failures == 5  # refused attempts are not even stored
    metrics = (await client.get("/metrics")).text
    assert 'tocsin_auth_refusals_total{reason="password"} 5.0' in metrics
    assert 'tocsin_auth_refusals_total{reason="throttled"} 195.0' in metrics


async def test_an_attacker_who_waits_out_each_delay_grows_the_journal_at_most_once_an_hour(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    await make_user(db, clock, "prefet", "prefect")
    before = await _journal_length(db)
    for n in range(200):  # one attempt a minute for 200 minutes
        await _try(client, "prefet", f"essai-{n}")
        clock.advance(minutes=1)
    assert await _journal_length(db) - before <= 4


async def test_a_success_clears_the_failures_of_its_own_address(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect: TestUser = await make_user(db, clock, "prefet", "prefect")
    for _ in range(4):
        await _try(client, "prefet", "devine")
    assert (await _try(client, "prefet", prefect.password)).status_code == 303
    client.cookies.clear()
    for _ in range(4):  # the count starts again from zero: four free attempts
        answer = await _try(client, "prefet", "devine")
        assert answer.status_code == 401 and "retry-after" not in answer.headers
