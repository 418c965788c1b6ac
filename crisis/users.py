"""A user's account row, and who it acts as."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crisis.actors import Actor, Role
from storage.types import UTCDateTime


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
