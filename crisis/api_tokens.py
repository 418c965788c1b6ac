"""API tokens: shown once when issued, stored only as SHA-256 digests, read at each request."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor, Role
from crisis.errors import NotFound
from crisis.users import User
from storage.types import UTCDateTime

TOKEN_PREFIX = "tcs_"  # noqa: S105 - a public prefix, not a secret


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    digest: str = Field(unique=True, max_length=64)
    label: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def issue_token(
    session: AsyncSession, *, actor: Actor, user: User, now: datetime, label: str = ""
) -> str:
    """Create an API token for `user`; only its digest is stored."""
    if actor.user_id != user.id:
        actor.require(Role.ADMIN, action="créer un jeton d'API")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert user.id is not None
    record = ApiToken(user_id=user.id, digest=token_digest(token), label=label, created_at=now)
    session.add(record)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="token.issued",
        now=now,
        payload={"user_id": user.id, "token_id": record.id, "label": label},
    )
    return token


async def revoke_token(
    session: AsyncSession, *, actor: Actor, token_id: int, now: datetime
) -> None:
    record = await session.get(ApiToken, token_id)
    if record is None:
        raise NotFound("token_not_found", "Jeton d'API introuvable.")
    if actor.user_id != record.user_id:
        actor.require(Role.ADMIN, action="révoquer un jeton d'API")
    if record.revoked_at is not None:
        return
    record.revoked_at = now
    session.add(record)
    await journal.append(
        session,
        actor=actor,
        action="token.revoked",
        now=now,
        payload={"user_id": record.user_id, "token_id": token_id},
    )


_USERS = User.__table__  # type: ignore[attr-defined]
_TOKENS = ApiToken.__table__  # type: ignore[attr-defined]
_TOKEN_ACTOR = (
    sa.select(_USERS.c.id, _USERS.c.login, _USERS.c.roles)
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(
        _TOKENS.c.digest == sa.bindparam("digest"),
        _TOKENS.c.revoked_at.is_(None),
        _USERS.c.active.is_(True),
    )
)


async def actor_for_token(conn: AsyncConnection, *, token: str) -> Actor | None:
    """Who an API token acts for: None when it is unknown, revoked, or its user deactivated.
    Read at each request (a revocation holds at once), as one row of three columns."""
    row = (await conn.execute(_TOKEN_ACTOR, {"digest": token_digest(token)})).first()
    if row is None:
        return None
    user_id, login, roles = row
    return Actor(user_id, login, frozenset(Role(r) for r in roles))


async def tokens_of(session: AsyncSession, *, user_id: int) -> list[ApiToken]:
    """A user's API tokens still valid, newest first."""
    rows = await session.exec(
        select(ApiToken)
        .where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    return list(rows)
