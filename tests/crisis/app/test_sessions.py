"""Issue 15, item 7: server-side sessions, one-time passwords, password and token revocation."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import select, update

from crisis import accounts, api_tokens, sessions
from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.crisis.app.web_session import csrf_of, log_in
from tests.support import FrozenClock, make_user

NEW_PASSWORD = "une phrase de passe solide"


@pytest.fixture
async def second_browser(
    settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, clock=clock, database=db)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


async def _one_time_user(db: Database, clock: FrozenClock, login: str) -> str:
    """A user as `tocsin users add` creates one; returns the one-time password."""
    async with db.transaction() as session:
        _, password = await accounts.create_user(
            session, actor=SYSTEM, login=login, roles=["prefect"], now=clock.now()
        )
    return password


async def _post_login(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    token = csrf_of((await client.get("/connexion")).text)
    return await client.post(
        "/connexion", data={"login": login, "password": password, "csrf_token": token}
    )


async def test_a_session_cookie_captured_before_logout_opens_nothing_after_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, prefect.login, prefect.password)
    stolen = client.cookies["tocsin_session"]
    out = await client.post("/deconnexion", data={"csrf_token": csrf})
    assert out.status_code == 303
    client.cookies.set("tocsin_session", stolen, domain="tocsin.test")
    replayed = await client.get("/")
    assert replayed.status_code == 303 and replayed.headers["location"] == "/connexion"
    client.cookies.set("tocsin_session", stolen, domain="tocsin.test")
    assert (await client.get("/api/v1/crises")).status_code == 401


async def test_a_session_idle_longer_than_the_timeout_is_closed(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, prefect.login, prefect.password)
    clock.advance(minutes=119)
    assert (await client.get("/")).status_code == 200  # activity moves the idle deadline
    clock.advance(minutes=119)
    assert (await client.get("/")).status_code == 200
    clock.advance(minutes=121)
    assert (await client.get("/")).headers.get("location") == "/connexion"


async def test_an_active_session_still_ends_after_its_absolute_lifetime(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, prefect.login, prefect.password)
    for _ in range(11):
        clock.advance(hours=1)
        assert (await client.get("/")).status_code == 200
    clock.advance(hours=1, seconds=1)
    assert (await client.get("/")).headers.get("location") == "/connexion"


async def test_a_one_time_password_cannot_be_used_twice(
    client: httpx.AsyncClient,
    second_browser: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
) -> None:
    password = await _one_time_user(db, clock, "nouvelle")
    assert (await _post_login(client, "nouvelle", password)).status_code == 303
    replay = await _post_login(second_browser, "nouvelle", password)
    assert replay.status_code == 401


async def test_a_one_time_password_opens_only_the_password_page_until_changed(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    password = await _one_time_user(db, clock, "nouvelle")
    async with db.transaction() as session:
        user = await accounts.user_by_login(session, login="nouvelle")
        assert user is not None
        token = await api_tokens.issue_token(session, actor=SYSTEM, user=user, now=clock.now())
    await _post_login(client, "nouvelle", password)
    for path in ("/", "/main-courante", "/mon-compte"):
        answer = await client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/mon-compte/mot-de-passe"
    refused = await client.get("/api/v1/crises")
    assert refused.status_code == 403 and "usage unique" in refused.json()["error"]["message"]
    bearer = {"Authorization": f"Bearer {token}"}  # API tokens are not held back
    assert (await client.get("/api/v1/crises", headers=bearer)).status_code == 200
    page = await client.get("/mon-compte/mot-de-passe")
    assert page.status_code == 200 and "Choisir votre mot de passe" in page.text
    short = await client.post(
        "/mon-compte/mot-de-passe",
        data={
            "new_password": "court",
            "confirm_password": "court",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert short.status_code == 422
    assert "Le nouveau mot de passe doit compter au moins 12 caractères." in short.text
    done = await client.post(
        "/mon-compte/mot-de-passe",
        data={
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert (await client.get("/")).status_code == 200
    assert (await client.get("/api/v1/crises")).status_code == 200


async def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(
    client: httpx.AsyncClient,
    second_browser: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, prefect.login, prefect.password)
    await log_in(second_browser, prefect.login, prefect.password)  # e.g. a stolen session
    answer = await client.post(
        "/mon-compte/mot-de-passe",
        data={
            "current_password": prefect.password,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 303
    assert (await client.get("/mon-compte")).status_code == 200
    assert (await second_browser.get("/")).headers.get("location") == "/connexion"
    second_browser.cookies.clear()
    assert (await _post_login(second_browser, "prefet", prefect.password)).status_code == 401
    assert (await _post_login(second_browser, "prefet", NEW_PASSWORD)).status_code == 303


async def test_a_password_change_without_the_current_password_is_refused_in_french(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, prefect.login, prefect.password)
    answer = await client.post(
        "/mon-compte/mot-de-passe",
        data={
            "current_password": "pas le bon",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD + "!",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 422
    assert "Le mot de passe actuel est incorrect." in answer.text
    assert "Les deux saisies du nouveau mot de passe diffèrent." in answer.text
    client.cookies.clear()
    assert (await _post_login(client, "prefet", prefect.password)).status_code == 303


async def test_a_user_revokes_a_session_of_theirs_and_it_opens_nothing_more(
    client: httpx.AsyncClient,
    second_browser: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, prefect.login, prefect.password)
    await log_in(second_browser, prefect.login, prefect.password)
    page = (await client.get("/mon-compte")).text
    assert "198.51.100.7" in page and "Cette session" in page
    other = re.findall(r"/mon-compte/sessions/(\d+)/revocation", page)
    assert len(other) == 2
    target = max(other, key=int)  # the second browser's, opened last
    answer = await client.post(
        f"/mon-compte/sessions/{target}/revocation", data={"csrf_token": csrf}
    )
    assert answer.status_code == 303
    assert (await second_browser.get("/")).headers.get("location") == "/connexion"
    assert (await client.get("/")).status_code == 200


async def test_a_user_cannot_revoke_another_users_session(
    client: httpx.AsyncClient,
    second_browser: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    other = await make_user(db, clock, "communicant", "communicator")
    await log_in(second_browser, prefect.login, prefect.password)
    csrf = await log_in(client, other.login, other.password)
    from sqlmodel import select

    from crisis.sessions import WebSession

    async with db.read() as session:
        rows = await session.exec(select(WebSession).where(WebSession.user_id == prefect.id))
        target = rows.one().id
    answer = await client.post(
        f"/mon-compte/sessions/{target}/revocation", data={"csrf_token": csrf}
    )
    assert answer.status_code == 404
    assert (await second_browser.get("/")).status_code == 200


async def test_a_token_revoked_from_the_account_page_no_longer_opens_the_api(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    assert (await client.get("/api/v1/crises", headers=prefect.headers)).status_code == 200
    csrf = await log_in(client, prefect.login, prefect.password)
    created = await client.post("/mon-compte/jetons", data={"label": "script", "csrf_token": csrf})
    new_token = re.search(r"tcs_[A-Za-z0-9_-]+", created.text)
    assert created.status_code == 200 and new_token is not None
    ids = re.findall(r"/mon-compte/jetons/(\d+)/revocation", created.text)
    assert len(ids) == 2
    for token_id in ids:
        await client.post(f"/mon-compte/jetons/{token_id}/revocation", data={"csrf_token": csrf})
    client.cookies.clear()
    for token in (prefect.token, new_token.group(0)):
        answer = await client.get("/api/v1/crises", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401


async def test_a_deactivated_user_loses_every_session_and_token(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin", "admin")
    prefect = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, prefect.login, prefect.password)
    async with db.transaction() as session:
        user = await accounts.user_by_login(session, login="admin")
        assert user is not None
        await accounts.deactivate(session, actor=user.actor(), login="prefet", now=clock.now())
    assert (await client.get("/")).headers.get("location") == "/connexion"
    assert (await client.get("/api/v1/crises", headers=prefect.headers)).status_code == 401
    assert admin.login == "admin"


async def test_the_demo_users_are_not_asked_to_change_their_password(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    from crisis.app import bootstrap

    logins = {entry.login: entry.password for entry in await bootstrap.demo_users(db, clock)}
    await log_in(client, "prefet", logins["prefet"])
    assert (await client.get("/")).status_code == 200


async def test_each_demo_user_has_an_account_e_mail_for_their_own_test_sends(
    db: Database, clock: FrozenClock
) -> None:
    from crisis import accounts
    from crisis.app import bootstrap

    demo = await bootstrap.demo_users(db, clock)
    await bootstrap.demo_users(db, clock)  # a restart keeps the address, journals nothing twice
    async with db.read() as session:
        emails = [(await accounts.user_named(session, login=entry.login)).email for entry in demo]
    assert emails == [f"{entry.login}@sandbox.tocsin.test" for entry in demo]


async def test_a_persons_requests_do_not_wait_for_the_touch_of_their_session_under_way(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, prefect.login, prefect.password)
    clock.advance(minutes=5)  # the session's last request is due to be moved
    app = client._transport.app  # type: ignore[attr-defined]
    held, release = asyncio.Event(), asyncio.Event()

    async def hold_the_sessions() -> None:  # as a long write would, on either database
        async with db.transaction() as session:
            await session.exec(update(sessions.WebSession).values(user_agent="tenu"))
            held.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_sessions())
    await held.wait()
    first = asyncio.create_task(client.get("/"))
    for _ in range(10_000):
        if getattr(app.state, "touching_sessions", None):
            break
        await asyncio.sleep(0)
    assert app.state.touching_sessions and not first.done()
    second = await asyncio.wait_for(client.get("/"), timeout=20)
    assert second.status_code == 200 and not first.done()
    release.set()
    assert (await asyncio.wait_for(first, timeout=20)).status_code == 200
    await holder
    async with db.read() as session:
        touched = (await session.exec(select(sessions.WebSession))).one()
    assert touched.last_seen_at == clock.now() and not app.state.touching_sessions
