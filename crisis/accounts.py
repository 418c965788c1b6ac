"""Users' accounts as an administrator manages them: creation, roles, e-mail, password
resets, deactivation (passwords in `crisis.passwords`, API tokens in `crisis.api_tokens`)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.addresses import AddressError, masked, normalise
from contacts.directory import AddressKind
from crisis import journal, sessions
from crisis.actors import Actor, Role
from crisis.api_tokens import ApiToken
from crisis.errors import Conflict, InvalidInput, NotFound
from crisis.passwords import hashed, new_password
from crisis.users import User

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


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


async def user_by_login(session: AsyncSession, *, login: str) -> User | None:
    return (await session.exec(select(User).where(User.login == login))).first()


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
