"""ES48 coverage: have the officials, the media and the public been informed since the COD?

Computed from the bulletin deliveries of the crisis created at or after the COD's
`activated_at`. Officials and media: every targeted contact (distinct `contact_id` of that
audience, `to_call` rows included) has a delivery `sent` or `confirmed`; a person is reached at
the earliest such delivery, the audience covered at the latest person reached. Public: at least
one public channel delivery `sent`, or an FR-Alert broadcast recorded (`crisis.cell.fr_alert`).
In an exercise, every delivery has audience `exercise` and the audience its recipient plays is
`played_audience`.

The figures are aggregates computed by the database (`GROUP BY` person, then audience), never
delivery rows loaded here: a crisis of 100,000 deliveries costs a few rows to read. The people
still missing are listed a page at a time (`missing_page`), sorted by name (code point order,
the name of the person's first delivery); the coverage carries the first page and the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import targeting
from crisis.cell import fr_alert
from crisis.dispatch import reach
from crisis.dispatch.outbox import Delivery, DeliveryStatus
from crisis.vocabulary import Audience

AUDIENCES: tuple[str, ...] = (Audience.OFFICIALS, Audience.MEDIA, Audience.PUBLIC)
PEOPLE: tuple[str, ...] = (Audience.OFFICIALS, Audience.MEDIA)
DELIVERED = frozenset({DeliveryStatus.SENT.value, DeliveryStatus.CONFIRMED.value})
MISSING_SHOWN = 30
"""Names of missing people a coverage carries; the rest through `missing_page`."""

_D = Delivery.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class AudienceCoverage:
    covered_at: datetime | None
    reached: int
    total: int
    missing: tuple[str, ...]
    """The first names (people) or every channel not yet published (public)."""
    missing_count: int

    def view(self) -> dict[str, Any]:
        return {
            "covered_at": self.covered_at.isoformat() if self.covered_at else None,
            "reached": self.reached,
            "total": self.total,
            "missing": list(self.missing),
            "missing_count": self.missing_count,
        }


@dataclass(frozen=True, slots=True)
class Coverage:
    officials: AudienceCoverage
    media: AudienceCoverage
    public: AudienceCoverage

    @property
    def met_at(self) -> datetime | None:
        """The last of the three instants, once all three audiences are covered."""
        instants = [self.officials.covered_at, self.media.covered_at, self.public.covered_at]
        if any(instant is None for instant in instants):
            return None
        return max(i for i in instants if i is not None)

    def view(self) -> dict[str, Any]:
        return {name: getattr(self, name).view() for name in AUDIENCES}


_audience = reach.audience_of
_counted = reach.counted
_people = reach.people


async def keep(session: AsyncSession, *, crisis_id: int, since: datetime, exercise: bool) -> None:
    """Have the figures of `crisis.dispatch.reach` kept for this COD: rebuilt from the
    deliveries when they were kept for another instant, or not yet (a writing transaction:
    the clock tick's)."""
    conn = await session.connection()
    if await reach.basis(conn, crisis_id=crisis_id) != (since, exercise):
        await reach.rebuild(conn, crisis_id=crisis_id, since=since, exercise=exercise)


async def es48(
    session: AsyncSession,
    *,
    crisis_id: int,
    since: datetime,
    exercise: bool,
    missing_shown: int | None = MISSING_SHOWN,
    kept: bool = True,
    communes: Sequence[str] = (),
) -> Coverage:
    """The three audiences' coverage, with the first `missing_shown` names of the people not
    reached yet in each audience (0: no name read, for a tick that only wants `met_at`;
    None: every name, as the API's contract gives them).

    With `communes` (the crisis'), each audience's total is at least the officials or media
    the directory targets there (`targets`): « 0 / 312 » from the COD on, before any
    delivery; the people with deliveries but no longer in the directory still count.

    From the figures kept as deliveries change (`_kept`) when they are kept for this COD
    (and `kept`); otherwise from the deliveries: one statement for the officials and the
    media, the people grouped once (a CTE), then summed per audience and, beside those sums,
    the first names of the people missing."""
    conn = await session.connection()
    public = await _public(session, crisis_id=crisis_id, since=since, exercise=exercise)
    aimed = await targets(session, communes=communes, exercise=exercise)
    if kept and await reach.basis(conn, crisis_id=crisis_id) == (since, exercise):
        rows = await _kept(conn, crisis_id, missing_shown)
        return Coverage(
            officials=_aiming(rows[Audience.OFFICIALS], aimed.get(Audience.OFFICIALS, 0)),
            media=_aiming(rows[Audience.MEDIA], aimed.get(Audience.MEDIA, 0)),
            public=public,
        )
    found = await _from_deliveries(conn, crisis_id, since, exercise, missing_shown)
    nobody = AudienceCoverage(None, 0, 0, (), 0)
    return Coverage(
        officials=_aiming(found.get(Audience.OFFICIALS, nobody), aimed.get(Audience.OFFICIALS, 0)),
        media=_aiming(found.get(Audience.MEDIA, nobody), aimed.get(Audience.MEDIA, 0)),
        public=public,
    )


async def _from_deliveries(
    conn: AsyncConnection,
    crisis_id: int,
    since: datetime,
    exercise: bool,
    missing_shown: int | None,
) -> dict[str, AudienceCoverage]:
    """The officials' and media's coverage read from the deliveries themselves."""
    people = _people(crisis_id, since, exercise).cte("people")
    sums = sa.select(
        people.c.audience,
        sa.func.count().label("total"),
        sa.func.count(people.c.reached_at).label("reached"),
        sa.func.max(people.c.reached_at).label("last"),
        sa.null().label("rank"),
        sa.null().label("name"),
    ).group_by(people.c.audience)
    statement: sa.Select[Any] | sa.CompoundSelect[Any] = sums
    if missing_shown != 0:
        statement = sa.union_all(sums, _first_missing(people, conn, missing_shown))
    totals: dict[str, tuple[int, int, datetime | None]] = {}
    missing: dict[str, list[tuple[int, str]]] = {name: [] for name in PEOPLE}
    for audience, total, reached, last, rank, name in (await conn.execute(statement)).tuples():
        if rank is None:
            totals[audience] = (total, reached, last)
        else:
            missing[audience].append((rank, name))
    found: dict[str, AudienceCoverage] = {}
    for audience, (total, reached, last) in totals.items():
        names_shown = tuple(name for _rank, name in sorted(missing[audience]))
        covered_at = last if reached == total else None
        found[audience] = AudienceCoverage(covered_at, reached, total, names_shown, total - reached)
    return found


async def targets(
    session: AsyncSession, *, communes: Sequence[str], exercise: bool
) -> dict[str, int]:
    """The officials and media the directory targets for these communes (as a bulletin's
    fan-out picks them), counted by the database."""
    if not communes:
        return {}
    return await targeting.count(
        session, communes=list(communes), audiences=list(PEOPLE), exercise=exercise
    )


def _aiming(found: AudienceCoverage, aimed: int) -> AudienceCoverage:
    """The total is the larger of the people with deliveries and those the directory aims
    at; the missing count follows. When it is met stays the deliveries' rule (every person
    a bulletin went to reached): a bulletin may aim at fewer communes than the crisis, and
    the directory change after the fan-out."""
    if aimed <= found.total:
        return found
    return replace(found, total=aimed, missing_count=aimed - found.reached)


def _missing_names(conn: Any) -> sa.Select[Any]:
    """The names of the people kept as not reached, sorted: their first delivery's."""
    p, first = reach.PERSON.c, _D.alias("first_delivery")
    return (
        sa.select(first.c.recipient_name)
        .join_from(reach.PERSON, first, first.c.id == p.first_id)
        .where(p.reached_at.is_(None))
        .order_by(_by_name(first.c.recipient_name, conn), p.contact_id)
    )


async def _kept(conn: Any, crisis_id: int, shown: int | None) -> dict[str, AudienceCoverage]:
    """The coverage from the rows kept as deliveries change (`crisis.dispatch.reach`): the
    tallies, the last person reached once all are, the first names missing. A few index
    lookups, whatever the number of deliveries."""
    t, p = reach.TALLY.c, reach.PERSON.c
    tallies = await conn.execute(
        sa.select(t.audience, t.targeted, t.reached).where(t.crisis_id == crisis_id)
    )
    found: dict[str, AudienceCoverage] = {}
    for audience, total, reached in tallies.tuples():
        mine = (p.crisis_id == crisis_id, p.audience == audience)
        covered_at = None
        if total and reached == total:
            covered_at = await conn.scalar(
                sa.select(p.reached_at)
                .where(*mine, p.reached_at.is_not(None))
                .order_by(p.reached_at.desc())
                .limit(1)
            )
        names: list[str] = []
        if shown != 0 and reached < total:
            query = _missing_names(conn).where(*mine)
            names = list((await conn.execute(query.limit(shown))).scalars())
        found[audience] = AudienceCoverage(
            covered_at, reached, total, tuple(names), total - reached
        )
    nobody = AudienceCoverage(None, 0, 0, (), 0)
    return {audience: found.get(audience, nobody) for audience in PEOPLE}


def _first_missing(people: sa.CTE, conn: Any, shown: int | None) -> sa.Select[Any]:
    """The first `shown` names (None: all) of each audience's people not reached, with their
    rank, in the columns of the sums beside which they come."""
    first = _D.alias("first_delivery")
    ranked = (
        sa.select(
            people.c.audience,
            sa.func.row_number()
            .over(
                partition_by=people.c.audience,
                order_by=(_by_name(first.c.recipient_name, conn), people.c.contact_id),
            )
            .label("rank"),
            first.c.recipient_name.label("name"),
        )
        .join(people, first.c.id == people.c.first_id)
        .where(people.c.reached_at.is_(None))
        .subquery("ranked")
    )
    names = sa.select(
        ranked.c.audience, sa.null(), sa.null(), sa.null(), ranked.c.rank, ranked.c.name
    )
    return names if shown is None else names.where(ranked.c.rank <= shown)


def _by_name(name: sa.ColumnElement[str], conn: Any) -> sa.ColumnElement[str]:
    """Names in code point order, as Python sorts them (PostgreSQL's default collation
    would sort by language rules)."""
    return sa.collate(name, "C") if conn.dialect.name == "postgresql" else name


async def _public(
    session: AsyncSession, *, crisis_id: int, since: datetime, exercise: bool
) -> AudienceCoverage:
    """Per public channel, its first publication, and the FR-Alert broadcast recorded
    (`crisis.cell.fr_alert`); covered at the earliest of them."""
    c = _D.c
    published = sa.case(
        (c.status == DeliveryStatus.SENT.value, sa.func.coalesce(c.sent_at, c.created_at)),
        else_=sa.null(),
    )
    query = (
        sa.select(c.channel, sa.func.min(published))
        .where(
            *_counted(crisis_id, since, exercise),
            # Written in the SQL, as the partial index `ix_delivery_public` says it.
            sa.text("played_audience = 'public'" if exercise else "audience = 'public'"),
        )
        .group_by(c.channel)
    )
    rows = (await (await session.connection()).execute(query)).tuples().all()
    sent = [at for _channel, at in rows if at is not None]
    missing = tuple(sorted(channel for channel, at in rows if at is None))
    broadcast = await fr_alert.first_broadcast(
        session, crisis_id=crisis_id, since=since, exercise=exercise
    )
    if broadcast is not None:  # the FR-Alert broadcast recorded by the prefect
        sent.append(broadcast)
    total = len(rows) + (broadcast is not None)
    return AudienceCoverage(min(sent, default=None), len(sent), total, missing, len(missing))


async def missing_page(
    session: AsyncSession,
    *,
    crisis_id: int,
    since: datetime,
    exercise: bool,
    audience: str,
    limit: int,
    offset: int = 0,
    kept: bool = True,
) -> list[str]:
    """The names of one audience's people not reached yet, sorted, one page of them."""
    conn = await session.connection()
    if kept and await reach.basis(conn, crisis_id=crisis_id) == (since, exercise):
        p = reach.PERSON.c
        names = _missing_names(conn).where(p.crisis_id == crisis_id, p.audience == audience)
        return list((await conn.execute(names.limit(limit).offset(offset))).scalars())
    people = _people(crisis_id, since, exercise).subquery("people")
    first = _D.alias("first_delivery")
    query = (
        sa.select(first.c.recipient_name)
        .join(people, first.c.id == people.c.first_id)
        .where(people.c.audience == audience, people.c.reached_at.is_(None))
        .order_by(_by_name(first.c.recipient_name, conn), people.c.contact_id)
        .limit(limit)
        .offset(offset)
    )
    return list((await conn.execute(query)).scalars())
