"""Test doubles that are real classes, and helpers shared by the suites."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crisis import accounts, api_tokens
from crisis.actors import SYSTEM
from crisis.app.db import Database


@dataclass
class FrozenClock:
    """A clock that moves only when told to."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 28, 14, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass(frozen=True)
class TestUser:
    __test__ = False  # a helper, not a test class
    login: str
    password: str
    token: str
    id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_user(db: Database, clock: FrozenClock, login: str, *roles: str) -> TestUser:
    async with db.transaction() as session:
        user, password = await accounts.create_user(
            session, actor=SYSTEM, login=login, roles=list(roles), now=clock.now(), one_time=False
        )
        token = await api_tokens.issue_token(session, actor=SYSTEM, user=user, now=clock.now())
        assert user.id is not None
        return TestUser(login, password, token, user.id)
