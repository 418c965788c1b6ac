from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from crisis.app.db import Database, make_engine
from crisis.app.migrate import alembic_config
from crisis.app.models import metadata
from crisis.dispatch import tallies
from tests.conftest import _create_postgres_database, _drop_postgres_database


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, metadata))


async def test_the_migrations_build_exactly_the_schema_the_code_declares(db: Database) -> None:
    async with db.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


def test_the_revisions_form_a_single_line() -> None:
    from crisis.app.migrate import heads

    assert len(heads()) == 1


BEFORE_HOT_CLAIMS = "e2f9c3a1b4d5"
AT = "'2026-12-01 10:00:00.000000'"  # written in the SQL: each database reads it its way
STATUSES = ("pending", "retrying", "sending", "sent", "failed", "to_call", "confirmed", "cancelled")


@pytest.fixture
def empty_database_url(tmp_path: Path, postgres_server: str | None) -> Iterator[str]:
    """A database of its own, with no schema yet."""
    server = postgres_server
    if not server:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url, name = _create_postgres_database(server)
    yield url
    _drop_postgres_database(server, name)


def _migrate(connection: Connection, url: str, command_name: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    getattr(command, command_name)(config, revision)


async def test_upgrading_clears_the_next_attempt_of_settled_deliveries_and_downgrading_restores_it(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "upgrade", BEFORE_HOT_CLAIMS)
            await connection.execute(
                sa.text(
                    "INSERT INTO outbox_message (purpose, channel, subject, text, exercise,"
                    f" created_at) VALUES ('bulletin', 'email', 'Crue', 'Crue', false, {AT})"
                )
            )
            for n, status in enumerate(STATUSES):
                await connection.execute(
                    sa.text(
                        "INSERT INTO delivery (message_id, purpose, audience, recipient_name,"
                        " channel, address, status, attempts, next_attempt_at, idempotency_key,"
                        " cascade_rank, created_at) VALUES (1, 'bulletin', 'officials', 'Maire',"
                        f" 'email', 'maire@mairie-albert.fr', :status, 1, {AT}, :key, 0, {AT})"
                    ),
                    {"status": status, "key": f"key-{n}"},
                )
        scheduled = sa.text("SELECT status, next_attempt_at IS NOT NULL FROM delivery ORDER BY id")
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "upgrade", "head")
            upgraded = dict((await connection.execute(scheduled)).all())
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "downgrade", BEFORE_HOT_CLAIMS)
            downgraded = dict((await connection.execute(scheduled)).all())
    finally:
        await engine.dispose()
    unsettled = {"pending", "retrying", "sending"}
    assert {status: bool(has) for status, has in upgraded.items()} == {
        status: status in unsettled for status in STATUSES
    }
    assert all(downgraded.values()) and len(downgraded) == len(STATUSES)


BEFORE_PUBLIC_ID = "a7d3e9f1c2b4"


async def test_upgrading_gives_every_existing_bulletin_its_own_unguessable_public_id(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "upgrade", BEFORE_PUBLIC_ID)
            await connection.execute(
                sa.text(
                    "INSERT INTO crisis (title, kind, mode, status, communes, declared_at,"
                    f" declared_by) VALUES ('Crue', 'crue', 'real', 'declared', '[]', {AT}, 'p')"
                )
            )
            for n in range(3):
                await connection.execute(
                    sa.text(
                        "INSERT INTO bulletin (crisis_id, title, body, audiences, channels,"
                        " communes, variants, reference_ids, msg_type, strategy, cascade_minutes,"
                        " confirm_receipt, x_thread, status, content_hash, author, exercise,"
                        " created_at, updated_at) VALUES (1, :title, 'Texte', '[\"officials\"]',"
                        " '[]', '[]', '{}', '[]', 'alert', 'all', 0, false, false, 'published',"
                        f" 'h', 'com', false, {AT}, {AT})"
                    ),
                    {"title": f"Communiqué {n}"},
                )
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "upgrade", "head")
            names = (await connection.execute(sa.text("SELECT public_id FROM bulletin"))).scalars()
            public_ids = list(names)
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "downgrade", BEFORE_PUBLIC_ID)
            kept = (await connection.execute(sa.text("SELECT count(*) FROM bulletin"))).scalar()
    finally:
        await engine.dispose()
    assert len(set(public_ids)) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", name) for name in public_ids)
    assert kept == 3


BEFORE_TALLY = "b7d2f4a8c1e6"


async def test_upgrading_counts_the_deliveries_already_written_and_downgrading_drops_the_counters(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    engine = make_engine(url)
    rows = [
        ("1", "officials", "sent", "NULL"),
        ("1", "officials", "sent", "NULL"),
        ("1", "media", "confirmed", "'link'"),
        ("2", "officials", "pending", "NULL"),
        ("NULL", "officials", "sent", "NULL"),
    ]
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "upgrade", BEFORE_TALLY)
            await connection.execute(
                sa.text(
                    "INSERT INTO outbox_message (purpose, channel, subject, text, exercise,"
                    f" created_at) VALUES ('bulletin', 'email', 'Crue', 'Crue', false, {AT})"
                )
            )
            for n, (bulletin, audience, status, method) in enumerate(rows):
                scheduled = AT if status == "pending" else "NULL"
                await connection.execute(
                    sa.text(
                        "INSERT INTO delivery (message_id, bulletin_id, purpose, audience,"
                        " recipient_name, channel, address, status, attempts, next_attempt_at,"
                        " idempotency_key, confirm_method, cascade_rank, created_at) VALUES"
                        f" (1, {bulletin}, 'bulletin', :audience, 'Maire', 'email',"
                        f" 'maire@mairie-albert.fr', :status, 1, {scheduled}, :key, {method}, 0,"
                        f" {AT})"
                    ),
                    {"audience": audience, "status": status, "key": f"key-{n}"},
                )
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "upgrade", "head")
            kept = await _tallied(connection)
            recounted = Counter(
                {tuple(key): n for *key, n in (await connection.execute(tallies.recount())).all()}
            )
        async with engine.begin() as connection:
            await connection.run_sync(_migrate, url, "downgrade", BEFORE_TALLY)
            await connection.execute(sa.text("UPDATE delivery SET status = 'failed' WHERE id = 1"))
            tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
    finally:
        await engine.dispose()
    assert kept == recounted
    assert kept == Counter(
        {
            (1, "sent", "officials", None, "email", None): 2,
            (1, "confirmed", "media", None, "email", "link"): 1,
            (2, "pending", "officials", None, "email", None): 1,
        }
    )
    assert "delivery_tally" not in tables


async def _tallied(connection: Any) -> Counter[tuple[Any, ...]]:
    """Each bulletin's counters, as `tallies.recount` keys them."""
    found: Counter[tuple[Any, ...]] = Counter()
    for bulletin in (1, 2):
        for *key, n in (await connection.execute(tallies.figures(bulletin))).all():
            found[(bulletin, *key)] += int(n)
    return found
