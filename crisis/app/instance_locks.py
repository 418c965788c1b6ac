"""Locks that keep instances from racing each other.

- Preparing a database (migrations, default geography) happens one instance at a time: a
  PostgreSQL advisory lock, or a file lock beside a SQLite file. The second instance waits, then
  finds the schema at head.
- SQLite serves one instance: one web process and one worker per file, each holding a lock file
  for as long as it runs. A second one is refused at start with a message saying why (several
  instances need PostgreSQL).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from crisis.app.db import Database

PREPARE_LOCK_KEY = 80_4747_49  # any constant shared by every instance of one deployment


class AlreadyRunning(Exception):
    """Another process of the same role already serves this SQLite file."""


def sqlite_file(url: str) -> Path | None:
    """The SQLite file behind `url` (None: PostgreSQL, or an in-memory database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


@asynccontextmanager
async def preparing(db: Database, url: str) -> AsyncIterator[None]:
    """Held while one instance migrates and loads what a fresh database needs."""
    if db.dialect == "postgresql":
        async with db.engine.connect() as connection:
            await connection.execute(
                sa.text("SELECT pg_advisory_lock(:key)"), {"key": PREPARE_LOCK_KEY}
            )
            await connection.commit()
            try:
                yield
            finally:
                await connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": PREPARE_LOCK_KEY}
                )
                await connection.commit()
        return
    path = sqlite_file(url)
    if path is None:
        yield
        return
    with _lock_path(path, "preparation").open("a+") as handle:
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def hold_single_instance(url: str, role: str) -> IO[str] | None:
    """On SQLite, the lock of `role` ("web" or "worker") for this process' lifetime; keep the
    returned handle open (closing it, or the process ending, releases the lock)."""
    path = sqlite_file(url)
    if path is None:
        return None
    lock_path = _lock_path(path, role)
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise AlreadyRunning(
            f"une autre instance de Tocsin ({_ROLES.get(role, role)}, processus {holder}) "
            f"utilise déjà la base SQLite {path}. SQLite ne sert qu'une instance : arrêtez "
            "l'autre, ou passez à PostgreSQL pour en faire tourner plusieurs"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


_ROLES = {"web": "web", "worker": "envois"}


def _lock_path(database: Path, role: str) -> Path:
    return database.with_name(f"{database.name}.{role}.lock")
