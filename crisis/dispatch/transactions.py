"""What the dispatcher needs of the database (``crisis.app.db.Database`` fits)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = ["Transactions"]


class Transactions(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...
