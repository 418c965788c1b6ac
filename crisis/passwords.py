"""Passwords: argon2 hashes, one-time passwords, and a user changing their own.

A password an administrator hands out (`tocsin users add`) is a one-time password: the first
login with it consumes it, and the user must choose their own before anything else.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal, sessions
from crisis.actors import Actor
from crisis.errors import InvalidInput, NotFound
from crisis.users import User

_hasher = PasswordHasher()
# What a consumed one-time password leaves: no password verifies against it.
CONSUMED = "!consumed"
MIN_PASSWORD_LENGTH = 12


def new_password() -> str:
    return secrets.token_urlsafe(12)


@functools.cache
def _dummy_hash() -> str:
    """A real hash to compare against when the login does not exist, so timing leaks nothing;
    made at the first such login, not at every start of a command."""
    return _hasher.hash("tocsin-dummy-password")


def password_matches(user: User | None, password: str) -> bool:
    """Constant-shape check: a missing user costs the same argon2 verification."""
    try:
        hashed = user.password_hash if user else _dummy_hash()
        return _hasher.verify(hashed, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


# Argon2 costs tens of milliseconds of CPU by design: on a worker thread, never on the event
# loop, where it would stall every page and stream of the process meanwhile.


async def password_verified(user: User | None, password: str) -> bool:
    return await asyncio.to_thread(password_matches, user, password)


async def hashed(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


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
