"""A throwaway database for one benchmark run: a SQLite file, or a PostgreSQL database made on
the server given and dropped afterwards."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from crisis.app.db import Database, make_engine
from crisis.app.settings import Settings


@asynccontextmanager
async def throwaway(postgres: str | None, *, name: str) -> AsyncIterator[tuple[Database, str]]:
    """(database, URL); `name` prefixes the PostgreSQL database's name."""
    if postgres is None:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            yield Database.from_url(url), url
        return
    database = f"tocsin_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(postgres, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    url = make_url(postgres).set(database=database).render_as_string(hide_password=False)
    try:
        yield Database.from_url(url), url
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        await admin.dispose()


def served_settings(url: str) -> Settings:
    """The settings of an app served in-process over `url` (no scheduler: ticks by hand)."""
    return Settings(
        database_url=url,
        secret_key=SecretStr("bench-secret-key-not-for-production"),
        scheduler_enabled=False,
        json_logs=False,
    )
