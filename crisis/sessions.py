"""Server-side web sessions: the cookie carries a random id, the database holds its digest.

A session ends at logout, after `idle` without a request, after `lifetime` in all, when its
user is deactivated, and when the user's password changes (except the session that changed
it). `last_seen_at` moves at most once per `touch_every`, so a page load is not a write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor, Role
from crisis.errors import NotFound
from crisis.users import User
from storage.types import UTCDateTime

USER_AGENT_MAX = 256


class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(unique=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    client: str | None = Field(default=None, max_length=64)
    user_agent: str = Field(default="", max_length=USER_AGENT_MAX)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta
    touch_every: timedelta = timedelta(minutes=1)

    def alive(self, row: WebSession, *, now: datetime) -> bool:
        return self.alive_at(row.created_at, row.last_seen_at, row.revoked_at, now=now)

    def alive_at(
        self,
        created_at: datetime,
        last_seen_at: datetime,
        revoked_at: datetime | None,
        *,
        now: datetime,
    ) -> bool:
        return (
            revoked_at is None
            and now - last_seen_at <= self.idle
            and now - created_at <= self.lifetime
        )


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who a live session's cookie names: the session, and its user (an active one)."""

    session_id: int
    created_at: datetime
    last_seen_at: datetime
    actor: Actor
    must_change_password: bool
    journal_head: int
    """The journal's last entry (0: none) in the same read: the shared pages' version."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def open_session(
    session: AsyncSession,
    *,
    user_id: int,
    now: datetime,
    client: str | None,
    user_agent: str,
) -> tuple[WebSession, str]:
    """A new session; returns it with the secret id the cookie carries."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        digest=_digest(token),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        client=(client or None) and client[:64],
        user_agent=user_agent[:USER_AGENT_MAX],
    )
    session.add(row)
    await session.flush()
    return row, token


async def find(
    session: AsyncSession, *, token: str, now: datetime, policy: SessionPolicy
) -> WebSession | None:
    """The live session the cookie names; None when unknown, revoked or expired."""
    query = select(WebSession).where(WebSession.digest == _digest(token))
    row = (await session.exec(query)).first()
    return row if row is not None and policy.alive(row, now=now) else None


_SESSIONS = WebSession.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
_JOURNAL = journal.JournalEntry.__table__  # type: ignore[attr-defined]
_JOURNAL_HEAD = sa.select(sa.func.max(_JOURNAL.c.id)).scalar_subquery()
_VIEWER = (
    sa.select(
        _SESSIONS.c.id,
        _SESSIONS.c.created_at,
        _SESSIONS.c.last_seen_at,
        _SESSIONS.c.revoked_at,
        _USERS.c.id,
        _USERS.c.login,
        _USERS.c.roles,
        _USERS.c.must_change_password,
        _JOURNAL_HEAD,
    )
    .join(_USERS, _USERS.c.id == _SESSIONS.c.user_id)
    .where(_SESSIONS.c.digest == sa.bindparam("digest"), _USERS.c.active.is_(True))
)


async def viewer(
    conn: AsyncConnection, *, token: str, now: datetime, policy: SessionPolicy
) -> Viewer | None:
    """The live session the cookie names and its active user, read at every request as one
    row (no ORM session); None when unknown, revoked, expired or its user deactivated."""
    row = (await conn.execute(_VIEWER, {"digest": _digest(token)})).first()
    if row is None:
        return None
    session_id, created_at, last_seen_at, revoked_at, user_id, login, roles, must_change, head = row
    if not policy.alive_at(created_at, last_seen_at, revoked_at, now=now):
        return None
    actor = Actor(user_id, login, frozenset(Role(r) for r in roles))
    return Viewer(session_id, created_at, last_seen_at, actor, bool(must_change), int(head or 0))


def needs_touch(last_seen_at: datetime, *, now: datetime, policy: SessionPolicy) -> bool:
    return now - last_seen_at >= policy.touch_every


async def touch(session: AsyncSession, *, session_id: int, now: datetime) -> None:
    await session.exec(
        update(WebSession)
        .where(col(WebSession.id) == session_id, col(WebSession.revoked_at).is_(None))
        .values(last_seen_at=now)
    )


async def active_for(
    session: AsyncSession, *, user_id: int, now: datetime, policy: SessionPolicy
) -> list[WebSession]:
    rows = await session.exec(
        select(WebSession)
        .where(WebSession.user_id == user_id, col(WebSession.revoked_at).is_(None))
        .order_by(col(WebSession.last_seen_at).desc())
    )
    return [row for row in rows if policy.alive(row, now=now)]


async def revoke(session: AsyncSession, *, actor: Actor, session_id: int, now: datetime) -> None:
    """End one session: its owner may, and an admin."""
    row = await session.get(WebSession, session_id)
    if row is None or (row.user_id != actor.user_id and Role.ADMIN not in actor.roles):
        raise NotFound("session_not_found", "Session introuvable.")
    if row.revoked_at is not None:
        return
    row.revoked_at = now
    session.add(row)
    await journal.append(
        session,
        actor=actor,
        action="session.revoked",
        now=now,
        payload={"user_id": row.user_id, "session_id": session_id},
    )


async def end(session: AsyncSession, *, session_id: int, now: datetime) -> None:
    """Logout: the session's own end, not journaled apart from the logout."""
    await session.exec(
        update(WebSession)
        .where(col(WebSession.id) == session_id, col(WebSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def revoke_all(
    session: AsyncSession, *, user_id: int, now: datetime, keep: int | None = None
) -> int:
    """End every session of a user but `keep`; returns how many were ended."""
    query = update(WebSession).where(
        col(WebSession.user_id) == user_id, col(WebSession.revoked_at).is_(None)
    )
    if keep is not None:
        query = query.where(col(WebSession.id) != keep)
    result = await session.exec(query.values(revoked_at=now))
    return int(result.rowcount)
