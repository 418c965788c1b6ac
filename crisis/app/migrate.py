"""Schema migrations (Alembic), run by `tocsin db upgrade` and at `serve` start."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from crisis.app.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(connection: Connection, url: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade(engine: AsyncEngine, url: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, url)


async def upgrade_url(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine, url)
    finally:
        await engine.dispose()


@functools.cache
def head_revision() -> str | None:
    """The last revision of this code's migrations (read once: parsing the scripts cost
    `/readyz` 29 ms of CPU per request)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def is_current(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    return current == head_revision()


def autogenerate(message: str) -> None:
    """Write a new revision with what the metadata has that the migrations lack (dev tool)."""
    import asyncio
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/schema.db"
        asyncio.run(upgrade_url(url))
        command.revision(alembic_config(url), message=message, autogenerate=True)


def heads() -> tuple[str, ...]:
    """Every head of the revision graph: more than one means two branches to linearize."""
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
