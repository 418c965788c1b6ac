"""delivery tally: each bulletin's deliveries counted per status, kept by triggers (issue 16)

`delivery_tally` (bulletin × audience × played audience × channel × status × confirm method:
a number of deliveries), kept by triggers on `delivery` in the statement that writes a
delivery (`crisis/dispatch/tallies.py`): on SQLite a row trigger adds to the key's settled
row; on PostgreSQL a statement trigger appends the statement's deltas, which the leader's tick
folds. Backfilled from the deliveries, the table locked against writers meanwhile.

Revision ID: d5e1a7c3f9b2
Revises: b7d2f4a8c1e6
Create Date: 2026-12-04 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d5e1a7c3f9b2"
down_revision: str | None = "b7d2f4a8c1e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "bulletin_id, audience, played_audience, channel, status, confirm_method"
COUNTED = "purpose = 'bulletin' AND bulletin_id IS NOT NULL"


def _values(row: str) -> str:
    """A delivery's key as the tally writes it (no played audience or method: '')."""
    return (
        f"{row}.bulletin_id, {row}.audience, coalesce({row}.played_audience, ''),"
        f" {row}.channel, {row}.status, coalesce({row}.confirm_method, '')"
    )


def _sqlite_matches(row: str) -> str:
    return (
        f"settled AND bulletin_id = {row}.bulletin_id AND audience = {row}.audience"
        f" AND played_audience = coalesce({row}.played_audience, '')"
        f" AND channel = {row}.channel AND status = {row}.status"
        f" AND confirm_method = coalesce({row}.confirm_method, '')"
    )


_SQLITE_ADD = (
    f"INSERT INTO delivery_tally ({KEY}, settled, deliveries) SELECT {_values('NEW')}, 1, 1"
    " WHERE NEW.purpose = 'bulletin' AND NEW.bulletin_id IS NOT NULL"
    f" ON CONFLICT ({KEY}) WHERE settled DO UPDATE SET deliveries = deliveries + 1;"
)
_SQLITE_REMOVE = (
    "UPDATE delivery_tally SET deliveries = deliveries - 1"  # noqa: S608 (constants)
    f" WHERE OLD.purpose = 'bulletin' AND {_sqlite_matches('OLD')};"
)
_CHANGED = " OR ".join(
    f"OLD.{c} IS NOT NEW.{c}" for c in ("purpose", *(name.strip() for name in KEY.split(",")))
)
SQLITE = (
    f"CREATE TRIGGER delivery_tally_insert AFTER INSERT ON delivery BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER delivery_tally_update AFTER UPDATE OF purpose, {KEY} ON delivery"
    f" WHEN {_CHANGED} BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
    f"CREATE TRIGGER delivery_tally_delete AFTER DELETE ON delivery BEGIN {_SQLITE_REMOVE} END",
)


def _moved(table: str, sign: int) -> str:
    return f"SELECT {_values(table)}, {sign} AS n FROM {table} WHERE {COUNTED}"  # noqa: S608


def _postgres_function(name: str, *sources: str) -> str:
    """A statement trigger's function: the statement's deltas appended, one row per key."""
    moved = " UNION ALL ".join(sources)
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"  # noqa: S608
        f" INSERT INTO delivery_tally ({KEY}, settled, deliveries)"
        f" SELECT {KEY}, false, sum(n) FROM ({moved}) AS moved (bulletin_id, audience,"
        " played_audience, channel, status, confirm_method, n)"
        f" GROUP BY {KEY} HAVING sum(n) <> 0; RETURN NULL; END $$"
    )


_POSTGRES_TRIGGERS = (
    ("insert", "INSERT", "NEW TABLE AS new_rows", (_moved("new_rows", 1),)),
    (
        "update",
        "UPDATE",
        "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        (_moved("old_rows", -1), _moved("new_rows", 1)),
    ),
    ("delete", "DELETE", "OLD TABLE AS old_rows", (_moved("old_rows", -1),)),
)
POSTGRES = tuple(
    statement
    for suffix, event, transitions, sources in _POSTGRES_TRIGGERS
    for statement in (
        _postgres_function(f"delivery_tally_{suffix}d", *sources),
        f"CREATE TRIGGER delivery_tally_{suffix} AFTER {event} ON delivery"
        f" REFERENCING {transitions} FOR EACH STATEMENT"
        f" EXECUTE FUNCTION delivery_tally_{suffix}d()",
    )
)


def upgrade() -> None:
    op.create_table(
        "delivery_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("played_audience", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("confirm_method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_delivery_tally_settled",
        "delivery_tally",
        [name.strip() for name in KEY.split(",")],
        unique=True,
        postgresql_where=sa.text("settled"),
        sqlite_where=sa.text("settled"),
    )
    op.create_index(
        "ix_delivery_tally_deltas",
        "delivery_tally",
        ["bulletin_id"],
        postgresql_where=sa.text("NOT settled"),
        sqlite_where=sa.text("NOT settled"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # no delivery written between the backfill's reading and the triggers
        op.execute("LOCK TABLE delivery IN SHARE MODE")
    op.execute(
        f"INSERT INTO delivery_tally ({KEY}, settled, deliveries)"  # noqa: S608
        f" SELECT {_values('delivery')}, true, count(*) FROM delivery WHERE {COUNTED}"
        " GROUP BY 1, 2, 3, 4, 5, 6"
    )
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for suffix in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER delivery_tally_{suffix}" + (" ON delivery" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION delivery_tally_{suffix}d()")
    op.drop_index("ix_delivery_tally_deltas", table_name="delivery_tally")
    op.drop_index("ux_delivery_tally_settled", table_name="delivery_tally")
    op.drop_table("delivery_tally")
