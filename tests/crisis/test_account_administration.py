"""Issue 18 item 12: an administrator changes roles; Tocsin always keeps an active administrator."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from crisis import accounts
from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.errors import Conflict, Forbidden, InvalidInput
from crisis.journal import JournalEntry
from tests.support import FrozenClock, make_user


async def _actor(db: Database, login: str) -> accounts.Actor:
    async with db.read() as session:
        return (await accounts.user_named(session, login=login)).actor()


async def test_an_administrator_changes_a_users_roles_and_the_journal_keeps_before_and_after(
    db: Database, clock: FrozenClock
) -> None:
    await make_user(db, clock, "admin", "admin")
    await make_user(db, clock, "agent", "communicator")
    admin = await _actor(db, "admin")
    async with db.transaction() as session:
        user = await accounts.set_roles(
            session,
            actor=admin,
            login="agent",
            roles=["validator", "communicator"],
            now=clock.now(),
        )
    assert user.roles == ["communicator", "validator"]
    async with db.read() as session:
        [entry] = await session.exec(
            select(JournalEntry).where(JournalEntry.action == "user.roles_changed")
        )
    assert json.loads(entry.payload) | {"user_id": 0} == {
        "user_id": 0,
        "login": "agent",
        "before": ["communicator"],
        "after": ["communicator", "validator"],
    }


async def test_the_last_active_administrator_keeps_the_role_and_the_account(
    db: Database, clock: FrozenClock
) -> None:
    await make_user(db, clock, "admin", "admin")
    admin = await _actor(db, "admin")
    with pytest.raises(Conflict, match="dernier administrateur actif"):
        async with db.transaction() as session:
            await accounts.set_roles(
                session, actor=admin, login="admin", roles=["prefect"], now=clock.now()
            )
    with pytest.raises(Conflict, match="dernier administrateur actif"):
        async with db.transaction() as session:
            await accounts.deactivate(session, actor=SYSTEM, login="admin", now=clock.now())
    await make_user(db, clock, "admin2", "admin")
    async with db.transaction() as session:
        await accounts.set_roles(
            session, actor=admin, login="admin", roles=["prefect"], now=clock.now()
        )
    assert (await _actor(db, "admin")).roles == {"prefect"}


async def test_roles_are_changed_by_an_administrator_only_and_never_to_none(
    db: Database, clock: FrozenClock
) -> None:
    await make_user(db, clock, "admin", "admin")
    await make_user(db, clock, "prefet", "prefect")
    prefect = await _actor(db, "prefet")
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await accounts.set_roles(
                session, actor=prefect, login="prefet", roles=["admin"], now=clock.now()
            )
    with pytest.raises(InvalidInput):
        async with db.transaction() as session:
            await accounts.set_roles(
                session, actor=SYSTEM, login="prefet", roles=[], now=clock.now()
            )
    assert (await _actor(db, "prefet")).roles == {"prefect"}
