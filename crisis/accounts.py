"""Users, their roles, passwords (argon2) and API tokens (stored as SHA-256 digests).

A password an administrator hands out (`tocsin users add`) is a one-time password: the first
login with it consumes it, and the user must choose their own before anything else.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Field, SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.addresses import AddressError, masked, normalise
from contacts.directory import AddressKind
from crisis import journal, sessions
from crisis.actors import Actor, Role
from crisis.errors import Conflict, InvalidInput, NotFound
from storage.types import UTCDateTime

TOKEN_PREFIX = "tcs_"  # noqa: S105 - a public prefix, not a secret
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
_hasher = PasswordHasher()
# A real hash to compare against when the login does not exist, so timing leaks nothing.
_DUMMY_HASH = _hasher.hash("tocsin-dummy-password")
# What a consumed one-time password leaves: no password verifies against it.
CONSUMED = "!consumed"
MIN_PASSWORD_LENGTH = 12


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=64)
    display_name: str = ""
    email: str | None = Field(default=None, max_length=320)
    password_hash: str
    roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    active: bool = True
    must_change_password: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
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
    """Recent failed logins per (login, source address), for throttling across instances."""

    __tablename__ = "login_failure"
    __table_args__ = (sa.Index("ix_login_failure_pair", "login", "client", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(index=True, max_length=64)
    client: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
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
    one_time: bool = True,
) -> tuple[User, str]:
    """Create a user; returns it with its password (generated when not given).

    The password is a one-time password unless `one_time` is false (demo users, tests).
    """
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
        password_hash=await hashed(password),
        roles=[r.value for r in checked],
        must_change_password=one_time,
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


async def actor_for_token(session: AsyncSession, *, token: str) -> Actor | None:
    """Who an API token acts for: None when it is unknown, revoked, or its user deactivated.
    Read at each request (a revocation holds at once), as one row of three columns."""
    conn = await session.connection()
    row = (await conn.execute(_TOKEN_ACTOR, {"digest": token_digest(token)})).first()
    if row is None:
        return None
    user_id, login, roles = row
    return Actor(user_id, login, frozenset(Role(r) for r in roles))


async def user_by_login(session: AsyncSession, *, login: str) -> User | None:
    return (await session.exec(select(User).where(User.login == login))).first()


def password_matches(user: User | None, password: str) -> bool:
    """Constant-shape check: a missing user costs the same argon2 verification."""
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


# Argon2 costs tens of milliseconds of CPU by design: on a worker thread, never on the event
# loop, where it would stall every page and stream of the process meanwhile.


async def password_verified(user: User | None, password: str) -> bool:
    return await asyncio.to_thread(password_matches, user, password)


async def hashed(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


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


def consume_one_time_password(user: User) -> None:
    """After the first login with a one-time password: it never verifies again."""
    if user.must_change_password:
        user.password_hash = CONSUMED


async def _password_problems(user: User, *, current: str, new: str, confirm: str) -> list[str]:
    problems = []
    if not user.must_change_password and not await password_verified(user, current):
        problems.append("Le mot de passe actuel est incorrect.")
    if len(new) < MIN_PASSWORD_LENGTH:
        problems.append(
            f"Le nouveau mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères."
        )
    if new != confirm:
        problems.append("Les deux saisies du nouveau mot de passe diffèrent.")
    elif new == current:
        problems.append("Le nouveau mot de passe doit différer de l'actuel.")
    return problems


async def change_password(
    session: AsyncSession,
    *,
    actor: Actor,
    current: str,
    new: str,
    confirm: str,
    now: datetime,
    keep_session: int | None,
) -> None:
    """A user sets their own password; every other session of theirs ends.

    The current password is asked, except right after a one-time password (already consumed).
    """
    user = await session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not user.active:
        raise NotFound("user_not_found", "Utilisateur introuvable.")
    problems = await _password_problems(user, current=current, new=new, confirm=confirm)
    if problems:
        raise InvalidInput("invalid_password", " ".join(problems), problems)
    was_one_time = user.must_change_password
    user.password_hash = await hashed(new)
    user.must_change_password = False
    session.add(user)
    ended = await sessions.revoke_all(session, user_id=user.id or 0, now=now, keep=keep_session)
    await journal.append(
        session,
        actor=actor,
        action="user.password_changed",
        now=now,
        payload={"user_id": user.id, "one_time": was_one_time, "sessions_ended": ended},
    )


async def user_named(session: AsyncSession, *, login: str) -> User:
    user = await user_by_login(session, login=login)
    if user is None or user.id is None:
        raise NotFound("user_not_found", f"Aucun utilisateur « {login} ».")
    return user


async def reset_password(session: AsyncSession, *, actor: Actor, login: str, now: datetime) -> str:
    """An administrator hands out a new one-time password; the user's sessions end."""
    actor.require(Role.ADMIN, action="réinitialiser un mot de passe")
    user = await user_named(session, login=login)
    password = new_password()
    user.password_hash = await hashed(password)
    user.must_change_password = True
    session.add(user)
    ended = await sessions.revoke_all(session, user_id=user.id or 0, now=now)
    await journal.append(
        session,
        actor=actor,
        action="user.password_reset",
        now=now,
        payload={"user_id": user.id, "login": login, "sessions_ended": ended},
    )
    return password


async def deactivate(session: AsyncSession, *, actor: Actor, login: str, now: datetime) -> None:
    """An administrator closes an account: its sessions and API tokens end with it."""
    actor.require(Role.ADMIN, action="désactiver un utilisateur")
    user = await user_named(session, login=login)
    await _keep_an_admin(session, user, action="le désactiver")
    user.active = False
    session.add(user)
    ended = await sessions.revoke_all(session, user_id=user.id or 0, now=now)
    await session.exec(
        update(ApiToken)
        .where(col(ApiToken.user_id) == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    await journal.append(
        session,
        actor=actor,
        action="user.deactivated",
        now=now,
        payload={"user_id": user.id, "login": login, "sessions_ended": ended},
    )


async def tokens_of(session: AsyncSession, *, user_id: int) -> list[ApiToken]:
    """A user's API tokens still valid, newest first."""
    rows = await session.exec(
        select(ApiToken)
        .where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    return list(rows)


async def all_users(session: AsyncSession) -> list[User]:
    """Every account, active first, then by login (the administrator's list)."""
    rows = await session.exec(select(User).order_by(col(User.active).desc(), col(User.login)))
    return list(rows)


async def _other_active_admins(session: AsyncSession, *, user_id: int | None) -> int:
    rows = await session.exec(select(User).where(col(User.active).is_(True), User.id != user_id))
    return sum(1 for u in rows if Role.ADMIN.value in u.roles)


async def _keep_an_admin(session: AsyncSession, user: User, *, action: str) -> None:
    """Refuse an act that leaves no active administrator (nobody could manage accounts)."""
    if not (Role.ADMIN.value in user.roles and user.active):
        return
    if await _other_active_admins(session, user_id=user.id) == 0:
        raise Conflict(
            "last_admin",
            f"Impossible de {action} : « {user.login} » est le dernier administrateur actif.",
        )


async def set_roles(
    session: AsyncSession, *, actor: Actor, login: str, roles: list[str], now: datetime
) -> User:
    """An administrator changes a user's roles; the last active administrator keeps theirs."""
    actor.require(Role.ADMIN, action="changer les rôles d'un utilisateur")
    user = await user_named(session, login=login)
    checked = [r.value for r in _check_roles(roles)]
    if Role.ADMIN.value not in checked:
        await _keep_an_admin(session, user, action="lui retirer le rôle d'administrateur")
    before = list(user.roles)
    if before == checked:
        return user
    user.roles = checked
    session.add(user)
    await journal.append(
        session,
        actor=actor,
        action="user.roles_changed",
        now=now,
        payload={"user_id": user.id, "login": login, "before": before, "after": checked},
    )
    return user
