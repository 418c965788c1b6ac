"""A login holds no database connection, and on SQLite no writer lock, while its password is
hashed (issue 16: 50 users logging in at once got 500s, « database is locked » past the 30 s
busy timeout on SQLite, « QueuePool limit reached » on PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from crisis import accounts, passwords
from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.users import User
from tests.crisis.app.web_session import csrf_of
from tests.support import FrozenClock, make_user


async def test_while_a_password_is_hashed_no_connection_is_held_and_others_write(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user(db, clock, "anne", "communicator")
    hashing, release = threading.Event(), threading.Event()
    real_check = passwords.password_matches

    def held_check(account: User | None, password: str) -> bool:
        hashing.set()
        release.wait(10)
        return real_check(account, password)

    monkeypatch.setattr(passwords, "password_matches", held_check)
    page = await client.get("/connexion")
    form = {"login": user.login, "password": user.password, "csrf_token": csrf_of(page.text)}
    login = asyncio.create_task(client.post("/connexion", data=form))
    try:
        assert await asyncio.to_thread(hashing.wait, 10)
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        async with asyncio.timeout(5), db.transaction() as session:  # another writer goes on
            await accounts.create_user(
                session, actor=SYSTEM, login="bruno", roles=["validator"], now=clock.now()
            )
    finally:
        release.set()
    assert (await login).status_code == 303
