"""Who each crisis' bulletins have reached, kept as deliveries change: the figures ES48 reads.

`reach_person` holds one row per crisis × audience (officials, media) × contact: the person's
first delivery (whose name is read there, never copied: an erased contact's pseudonym shows)
and when the person was first reached (NULL: not yet), over the deliveries ES48 counts
(bulletins, not cancelled, written at or after `since`). `reach_tally` holds per crisis ×
audience the people targeted and reached, and the `since` (the COD's activation) and exercise
flag the rows were computed for. A page then reads a few rows whatever the number of
deliveries.

Kept in the same transaction as every write that can change them: delivery inserts, a delivery
sent, confirmed or cancelled (`refresh`: the people touched are recomputed from their own
deliveries, the tallies moved by the difference). A crisis has rows only once `rebuild` ran
for its COD (the clock tick does it when the COD's instant differs from `since`, which also
backfills crises older than these tables); until then readers compute from the deliveries.

On PostgreSQL `refresh` locks the crisis' tally rows (refreshes of one crisis take turns) and
`rebuild` locks the delivery table in SHARE mode: it waits for the transactions writing
deliveries to end, so that none of them is missed between its reading and its tallies.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from crisis.dispatch.rows import Delivery, DeliveryStatus, Purpose
from crisis.vocabulary import Audience
from storage.types import UTCDateTime

PEOPLE: tuple[str, ...] = (Audience.OFFICIALS, Audience.MEDIA)
COUNTED: tuple[str, ...] = (Audience.OFFICIALS, Audience.MEDIA, Audience.PUBLIC)


class ReachPerson(SQLModel, table=True):
    __tablename__ = "reach_person"
    __table_args__ = (
        sa.Index("ix_reach_person_reached", "crisis_id", "audience", "reached_at"),
        sa.Index(
            "ix_reach_person_missing",
            "crisis_id",
            "audience",
            "contact_id",
            postgresql_where=sa.text("reached_at IS NULL"),
            sqlite_where=sa.text("reached_at IS NULL"),
        ),
    )

    crisis_id: int = Field(primary_key=True, foreign_key="crisis.id")
    audience: str = Field(primary_key=True, max_length=20)
    contact_id: int = Field(primary_key=True)
    first_id: int
    reached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReachTally(SQLModel, table=True):
    __tablename__ = "reach_tally"

    crisis_id: int = Field(primary_key=True, foreign_key="crisis.id")
    audience: str = Field(primary_key=True, max_length=20)
    since: datetime = Field(sa_type=UTCDateTime)
    exercise: bool
    targeted: int = 0
    reached: int = 0


_D = Delivery.__table__  # type: ignore[attr-defined]
# The public channels' deliveries of a crisis, a few among its thousands (see `coverage`).
sa.Index(
    "ix_delivery_public",
    _D.c.crisis_id,
    _D.c.channel,
    postgresql_where=sa.text("audience = 'public'"),
    sqlite_where=sa.text("audience = 'public'"),
)
sa.Index(
    "ix_delivery_played_public",
    _D.c.crisis_id,
    _D.c.channel,
    postgresql_where=sa.text("played_audience = 'public'"),
    sqlite_where=sa.text("played_audience = 'public'"),
)
PERSON = ReachPerson.__table__  # type: ignore[attr-defined]
TALLY = ReachTally.__table__  # type: ignore[attr-defined]


def audience_of(exercise: bool) -> sa.ColumnElement[str]:
    return _D.c.played_audience if exercise else _D.c.audience  # type: ignore[no-any-return]


def counted(crisis_id: int, since: datetime, exercise: bool) -> list[sa.ColumnElement[bool]]:
    """The deliveries ES48 counts: the crisis' bulletins since the COD, not cancelled."""
    c = _D.c
    return [
        c.crisis_id == crisis_id,
        c.purpose == Purpose.BULLETIN.value,
        c.created_at >= since,
        c.status != DeliveryStatus.CANCELLED.value,
        audience_of(exercise).in_(COUNTED),
    ]


def reached_at() -> sa.ColumnElement[datetime]:
    """When a delivery reached its person: confirmed, else sent, else written; NULL if not."""
    c = _D.c
    return sa.case(
        (
            c.status == DeliveryStatus.CONFIRMED.value,
            sa.func.coalesce(c.confirmed_at, c.sent_at, c.created_at),
        ),
        (c.status == DeliveryStatus.SENT.value, sa.func.coalesce(c.sent_at, c.created_at)),
        else_=sa.null(),
    )


def people(crisis_id: int, since: datetime, exercise: bool) -> sa.Select[Any]:
    """One row per audience and person: when first reached (NULL: not yet), first delivery."""
    c = _D.c
    audience = audience_of(exercise)
    return (
        sa.select(
            audience.label("audience"),
            c.contact_id.label("contact_id"),
            sa.func.min(reached_at()).label("reached_at"),
            sa.func.min(c.id).label("first_id"),
        )
        .where(
            *counted(crisis_id, since, exercise), audience.in_(PEOPLE), c.contact_id.is_not(None)
        )
        .group_by(audience, c.contact_id)
    )


def _as_rows(found: sa.Select[Any], crisis_id: int) -> sa.Select[Any]:
    """The people of `found` as `reach_person` rows."""
    grouped = found.subquery("grouped")
    return sa.select(
        sa.literal(crisis_id).label("crisis_id"),
        grouped.c.audience,
        grouped.c.contact_id,
        grouped.c.first_id,
        grouped.c.reached_at,
    )


_COLUMNS = ("crisis_id", "audience", "contact_id", "first_id", "reached_at")


async def _sums(conn: Any, statement: Any) -> dict[str, tuple[int, int]]:
    """(people, reached) per audience of the rows a RETURNING statement gives."""
    sums: dict[str, tuple[int, int]] = {}
    for audience, when in (await conn.execute(statement)).tuples():
        people_, reached = sums.get(audience, (0, 0))
        sums[audience] = (people_ + 1, reached + (when is not None))
    return sums


async def refresh(conn: Any, *, crisis_id: int, contact_ids: Iterable[int]) -> None:
    """Recompute the people `contact_ids` of a crisis after their deliveries changed."""
    contacts = sorted(set(contact_ids))
    if not contacts:
        return
    basis = sa.select(TALLY.c.since, TALLY.c.exercise).where(TALLY.c.crisis_id == crisis_id)
    if conn.dialect.name == "postgresql":
        basis = basis.with_for_update()
    row = (await conn.execute(basis)).first()
    if row is None:
        return  # no rows for this crisis yet: `rebuild` will count these deliveries
    since, exercise = row
    p = PERSON.c
    for start in range(0, len(contacts), 5000):
        chunk = contacts[start : start + 5000]
        old = await _sums(
            conn,
            sa.delete(PERSON)
            .where(p.crisis_id == crisis_id, p.contact_id.in_(chunk))
            .returning(p.audience, p.reached_at),
        )
        found = people(crisis_id, since, exercise).where(_D.c.contact_id.in_(chunk))
        new = await _sums(
            conn,
            sa.insert(PERSON)
            .from_select(_COLUMNS, _as_rows(found, crisis_id))
            .returning(p.audience, p.reached_at),
        )
        for audience in PEOPLE:
            before, after = old.get(audience, (0, 0)), new.get(audience, (0, 0))
            if before != after:
                await conn.execute(
                    sa.update(TALLY)
                    .where(TALLY.c.crisis_id == crisis_id, TALLY.c.audience == audience)
                    .values(
                        targeted=TALLY.c.targeted + (after[0] - before[0]),
                        reached=TALLY.c.reached + (after[1] - before[1]),
                    )
                )


async def refresh_deliveries(conn: Any, delivery_ids: Iterable[int]) -> None:
    """`refresh` the people of these deliveries (bulletins to a contact only)."""
    ids = sorted(set(delivery_ids))
    touched: dict[int, set[int]] = {}
    for start in range(0, len(ids), 5000):
        rows = await conn.execute(
            sa.select(_D.c.crisis_id, _D.c.contact_id)
            .where(
                _D.c.id.in_(ids[start : start + 5000]),
                _D.c.purpose == Purpose.BULLETIN.value,
                _D.c.contact_id.is_not(None),
                _D.c.crisis_id.is_not(None),
            )
            .distinct()
        )
        for crisis_id, contact_id in rows.tuples():
            touched.setdefault(crisis_id, set()).add(contact_id)
    for crisis_id, contacts in sorted(touched.items()):
        await refresh(conn, crisis_id=crisis_id, contact_ids=contacts)


async def refresh_rows(conn: Any, rows: Iterable[dict[str, object]], *, purpose: str) -> None:
    """`refresh` the people of delivery rows just inserted."""
    if purpose != Purpose.BULLETIN.value:
        return
    touched: dict[int, set[int]] = {}
    for row in rows:
        crisis_id, contact_id = row.get("crisis_id"), row.get("contact_id")
        if isinstance(crisis_id, int) and isinstance(contact_id, int):
            touched.setdefault(crisis_id, set()).add(contact_id)
    for crisis_id, contacts in sorted(touched.items()):
        await refresh(conn, crisis_id=crisis_id, contact_ids=contacts)


async def basis(conn: Any, *, crisis_id: int) -> tuple[datetime, bool] | None:
    """The (since, exercise) a crisis' rows were computed for, if any."""
    row = (
        await conn.execute(
            sa.select(TALLY.c.since, TALLY.c.exercise).where(TALLY.c.crisis_id == crisis_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


def rebuild_statements(crisis_id: int, since: datetime, exercise: bool) -> list[Any]:
    """The statements that recompute a crisis' rows from all its deliveries, counted since
    `since` (run in order, in one transaction; the migration's backfill runs them too)."""
    p = PERSON.c
    statements: list[Any] = [
        sa.delete(PERSON).where(p.crisis_id == crisis_id),
        sa.delete(TALLY).where(TALLY.c.crisis_id == crisis_id),
        sa.insert(PERSON).from_select(
            _COLUMNS, _as_rows(people(crisis_id, since, exercise), crisis_id)
        ),
    ]
    for audience in PEOPLE:
        sums = sa.select(
            sa.literal(crisis_id),
            sa.literal(audience),
            sa.literal(since, UTCDateTime()),
            sa.literal(exercise),
            sa.func.count(),
            sa.func.count(p.reached_at),
        ).where(p.crisis_id == crisis_id, p.audience == audience)
        columns = ("crisis_id", "audience", "since", "exercise", "targeted", "reached")
        statements.append(sa.insert(TALLY).from_select(columns, sums))
    return statements


async def rebuild(conn: Any, *, crisis_id: int, since: datetime, exercise: bool) -> None:
    """Recompute a crisis' rows from all its deliveries, counted since `since`."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("LOCK TABLE delivery IN SHARE MODE"))
    for statement in rebuild_statements(crisis_id, since, exercise):
        await conn.execute(statement)
