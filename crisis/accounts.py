"""Users, their roles, passwords (argon2) and API tokens (stored as SHA-256 digests)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.addresses import AddressError, masked, normalise
from contacts.directory import AddressKind
from crisis import journal
from crisis.actors import Actor, Role
from crisis.errors import Conflict, InvalidInput
from storage.types import UTCDateTime

TOKEN_PREFIX = "tcs_"  # noqa: S105 - a public prefix, not a secret
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
_hasher = PasswordHasher()
# A real hash to compare against when the login does not exist, so timing leaks nothing.
_DUMMY_HASH = _hasher.hash("tocsin-dummy-password")


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=64)
    display_name: str = ""
    email: str | None = Field(default=None, max_length=320)
    password_hash: str
    roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)

    def actor(self) -> Actor:
        assert self.id is not None
        return Actor(self.id, self.login, frozenset(Role(r) for r in self.roles))


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    digest: str = Field(unique=True, max_length=64)
    label: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """Recent failed logins, for throttling across every instance."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(index=True, max_length=64)
    at: datetime = Field(sa_type=UTCDateTime, index=True)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_password() -> str:
    return secrets.token_urlsafe(12)


def _check_roles(roles: list[str]) -> list[Role]:
    unknown = [r for r in roles if r not in Role.__members__.values()]
    if unknown or not roles:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput(
            "invalid_roles", f"Rôles inconnus ou absents ; rôles possibles : {known}.", unknown
        )
    return sorted({Role(r) for r in roles})


async def create_user(
    session: AsyncSession,
    *,
    actor: Actor,
    login: str,
    roles: list[str],
    now: datetime,
    password: str | None = None,
    display_name: str = "",
) -> tuple[User, str]:
    """Create a user; returns it with its password (generated when not given)."""
    actor.require(Role.ADMIN, action="créer un utilisateur")
    if not LOGIN_PATTERN.match(login):
        raise InvalidInput(
            "invalid_login",
            "Identifiant invalide : 2 à 63 minuscules, chiffres, « . », « _ » ou « - ».",
        )
    checked = _check_roles(roles)
    if (await session.exec(select(User).where(User.login == login))).first() is not None:
        raise Conflict("login_taken", f"L'identifiant « {login} » existe déjà.")
    password = password or new_password()
    user = User(
        login=login,
        display_name=display_name or login,
        password_hash=_hasher.hash(password),
        roles=[r.value for r in checked],
        created_at=now,
    )
    session.add(user)
    await session.flush()
    await journal.append(
        session,
        actor=actor,
        action="user.created",
        now=now,
        payload={"user_id": user.id, "login": login, "roles": user.roles},
    )
    return user, password


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
    if record is None or record.revoked_at is not None:
        return
    if actor.user_id != record.user_id:
        actor.require(Role.ADMIN, action="révoquer un jeton d'API")
    record.revoked_at = now
    session.add(record)
    await journal.append(
        session,
        actor=actor,
        action="token.revoked",
        now=now,
        payload={"user_id": record.user_id, "token_id": token_id},
    )


async def user_for_token(session: AsyncSession, *, token: str) -> User | None:
    query = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .where(ApiToken.digest == token_digest(token), ApiToken.revoked_at == None)  # noqa: E711
    )
    user = (await session.exec(query)).first()
    return user if user is not None and user.active else None


async def user_by_login(session: AsyncSession, *, login: str) -> User | None:
    return (await session.exec(select(User).where(User.login == login))).first()


def password_matches(user: User | None, password: str) -> bool:
    """Constant-shape check: a missing user costs the same argon2 verification."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


async def set_email(
    session: AsyncSession, *, actor: Actor, user: User, email: str | None, now: datetime
) -> User:
    """Set (or clear, with None) the e-mail of `user`'s account: an administrator's act, never
    the user's own, since a bulletin's test may go there (`crisis.bulletin.self_test`)."""
    actor.require(Role.ADMIN, action="renseigner le courriel d'un compte")
    checked = None
    if email is not None and email.strip():
        try:
            checked = normalise(AddressKind.EMAIL, email)
        except AddressError as error:
            raise InvalidInput("invalid_email", f"Courriel invalide : {error}.") from error
    user.email = checked
    session.add(user)
    await journal.append(
        session,
        actor=actor,
        action="user.email_set",
        now=now,
        payload={
            "user_id": user.id,
            "login": user.login,
            "email": masked(AddressKind.EMAIL, checked) if checked else None,
        },
    )
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)
