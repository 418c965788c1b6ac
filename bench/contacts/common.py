"""A throwaway database (SQLite file or PostgreSQL) migrated with the Somme loaded."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from crisis.app import bootstrap
from crisis.app.db import Database, make_engine


@asynccontextmanager
async def scratch_database(postgres: str | None) -> AsyncIterator[Database]:
    if postgres:
        name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(postgres, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
    else:
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{tmp}/bench.db"
    db = Database.from_url(url)
    await bootstrap.prepare(db, url)
    try:
        yield db
    finally:
        await db.dispose()
        if postgres:
            async with admin.connect() as conn:
                await conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            await admin.dispose()


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]
