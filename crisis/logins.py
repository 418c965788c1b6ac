"""Password logins, throttled per (login, source address) with growing delays.

No account is ever locked: failures from one address slow that address down for that login,
and the right password from any other address still opens a session. During a delay even the
right password is refused, unchecked, until the delay ends (else throttling would be moot).
Failures are not chained in the journal one by one (a loop would grow it without bound): the
journal records when throttling begins for a pair, once per run of failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import accounts, journal, passwords
from crisis.actors import Actor
from crisis.users import User
from storage.types import UTCDateTime

ANONYMOUS = Actor(None, "anonyme", frozenset())


class LoginFailure(SQLModel, table=True):
    """Recent failed logins per (login, source address), for throttling across instances."""

    __tablename__ = "login_failure"
    __table_args__ = (sa.Index("ix_login_failure_pair", "login", "client", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(index=True, max_length=64)
    client: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    at: datetime = Field(sa_type=UTCDateTime, index=True)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_attempts: int = 5
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(hours=1)

    def delay(self, failures: int) -> timedelta:
        """The wait after `failures` recent failures: none, then doubling up to the ceiling."""
        if failures < self.free_attempts:
            return timedelta(0)
        doublings = min(failures - self.free_attempts, 20)
        delay: timedelta = min(self.first_delay * (1 << doublings), self.max_delay)
        return delay


@dataclass(frozen=True, slots=True)
class Outcome:
    """A login attempt's result: `user` on success; else `retry_after` when a delay runs,
    and `throttled` when the attempt was refused unchecked because one already ran."""

    user: User | None = None
    retry_after: timedelta = timedelta(0)
    throttled: bool = False


async def _recent_failures(
    session: AsyncSession, *, login: str, client: str, since: datetime
) -> list[datetime]:
    rows = await session.exec(
        select(LoginFailure.at).where(
            LoginFailure.login == login,
            LoginFailure.client == client,
            col(LoginFailure.at) >= since,
        )
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class Check:
    """What an attempt reads before the password is checked: the account, or the refusal of
    a delay that runs."""

    user: User | None
    refused: Outcome | None = None


async def before_check(
    session: AsyncSession, *, login: str, client: str | None, now: datetime, policy: ThrottlePolicy
) -> Check:
    """The reads of an attempt (a read transaction is enough)."""
    failures = await _recent_failures(
        session, login=login, client=_client(client), since=now - policy.window
    )
    if failures:
        until = max(failures) + policy.delay(len(failures))
        if now < until:
            return Check(None, Outcome(retry_after=until - now, throttled=True))
    return Check(await accounts.user_by_login(session, login=login))


async def verified(check: Check, password: str) -> bool:
    """The password check itself: a hash's worth of CPU in a thread, outside any transaction
    (on SQLite a write transaction would hold the one writer lock meanwhile)."""
    user = check.user
    return await passwords.password_verified(user, password) and user is not None and user.active


async def after_check(
    session: AsyncSession,
    *,
    login: str,
    client: str | None,
    check: Check,
    verified: bool,
    now: datetime,
    policy: ThrottlePolicy,
) -> Outcome:
    """The writes of an attempt, in a short write transaction: a session's opening and the
    journal entry, or the failure counted (with those recorded meanwhile by others)."""
    client = _client(client)
    await session.exec(delete(LoginFailure).where(col(LoginFailure.at) < now - policy.window))
    user = await session.get(User, check.user.id) if verified and check.user else None
    if user is not None and user.active:
        await session.exec(
            delete(LoginFailure).where(
                col(LoginFailure.login) == login, col(LoginFailure.client) == client
            )
        )
        one_time = user.must_change_password
        passwords.consume_one_time_password(user)
        session.add(user)
        payload = {"client": client or None, "one_time_password": one_time}
        await journal.append(
            session, actor=user.actor(), action="auth.login", now=now, payload=payload
        )
        return Outcome(user=user)
    failures = await _recent_failures(
        session, login=login, client=client, since=now - policy.window
    )
    session.add(LoginFailure(login=login, client=client, at=now))
    count = len(failures) + 1
    delay = policy.delay(count)
    if count == policy.free_attempts:  # throttling begins for this pair: once per run
        await journal.append(
            session,
            actor=ANONYMOUS,
            action="auth.login_throttled",
            now=now,
            payload={
                "login": login,
                "client": client or None,
                "failures": count,
                "delay_seconds": int(delay.total_seconds()),
            },
        )
    return Outcome(retry_after=delay)


async def attempt(
    session: AsyncSession,
    *,
    login: str,
    password: str,
    client: str | None,
    now: datetime,
    policy: ThrottlePolicy,
) -> Outcome:
    """Check a password unless a delay runs for (login, client); journal what matters. The
    three steps in one session; the web runs them in a read, a thread and a short write."""
    check = await before_check(session, login=login, client=client, now=now, policy=policy)
    if check.refused is not None:
        return check.refused
    ok = await verified(check, password)
    return await after_check(
        session, login=login, client=client, check=check, verified=ok, now=now, policy=policy
    )


def _client(client: str | None) -> str:
    return (client or "")[:64]
