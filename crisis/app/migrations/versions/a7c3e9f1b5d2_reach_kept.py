"""reach kept: ES48's people and tallies kept as deliveries change (issue 16 item 1)

`reach_person` (crisis × audience × contact: first delivery, first reached) and
`reach_tally` (crisis × audience: since, exercise, targeted, reached), kept in the transactions
that write deliveries (`crisis/dispatch/reach.py`); two small partial indexes for the public
channels' deliveries of a crisis. Backfilled for every crisis whose COD is recorded, from its
deliveries.

Revision ID: a7c3e9f1b5d2
Revises: e5b1c9d3a7f2
Create Date: 2026-12-04 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "a7c3e9f1b5d2"
down_revision: str | None = "e5b1c9d3a7f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reach_person",
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("reached_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["crisis_id"], ["crisis.id"]),
        sa.PrimaryKeyConstraint("crisis_id", "audience", "contact_id"),
    )
    op.create_index(
        "ix_reach_person_reached", "reach_person", ["crisis_id", "audience", "reached_at"]
    )
    op.create_index(
        "ix_reach_person_missing",
        "reach_person",
        ["crisis_id", "audience", "contact_id"],
        postgresql_where=sa.text("reached_at IS NULL"),
        sqlite_where=sa.text("reached_at IS NULL"),
    )
    op.create_table(
        "reach_tally",
        sa.Column("crisis_id", sa.Integer(), nullable=False),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("since", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("targeted", sa.Integer(), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["crisis_id"], ["crisis.id"]),
        sa.PrimaryKeyConstraint("crisis_id", "audience"),
    )
    for name, column in (
        ("ix_delivery_public", "audience"),
        ("ix_delivery_played_public", "played_audience"),
    ):
        op.create_index(
            name,
            "delivery",
            ["crisis_id", "channel"],
            postgresql_where=sa.text(f"{column} = 'public'"),
            sqlite_where=sa.text(f"{column} = 'public'"),
        )
    _backfill()


def _backfill() -> None:
    """Every crisis with a COD: its rows computed from its deliveries, as the tick would."""
    from crisis.dispatch import reach  # the same statements as the application's rebuild

    bind = op.get_bind()
    query = sa.text(
        "SELECT id, cod_activated_at, mode FROM crisis WHERE cod_activated_at IS NOT NULL"
    ).columns(
        sa.column("id", sa.Integer()),
        sa.column("cod_activated_at", storage.types.UTCDateTime(timezone=True)),
        sa.column("mode", sa.String()),
    )
    for crisis_id, since, mode in bind.execute(query).all():
        for statement in reach.rebuild_statements(crisis_id, since, mode == "exercise"):
            bind.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_delivery_played_public", table_name="delivery")
    op.drop_index("ix_delivery_public", table_name="delivery")
    op.drop_table("reach_tally")
    op.drop_index("ix_reach_person_missing", table_name="reach_person")
    op.drop_index("ix_reach_person_reached", table_name="reach_person")
    op.drop_table("reach_person")
