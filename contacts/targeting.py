"""Who receives a bulletin: the exact recipients of an area, and who must be phoned."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import (
    SENDING_KINDS,
    AddressKind,
    AreaLevel,
    ContactAudience,
    ContactKind,
)
from contacts.geography import Commune
from storage.rawsql import Params, code_point_order, collector_paused, fetch_all

COMMUNES = Commune.__table__  # type: ignore[attr-defined]
AREA_WIDE = frozenset({ContactAudience.MEDIA, ContactAudience.STAFF, ContactAudience.EXERCISE})
"""Audiences reached across each département the area touches, not by area of competence."""
NOT_IN_DIRECTORY = frozenset({"public"})


class ChannelAddress(NamedTuple):
    channel_id: int
    kind: str
    address: str
    verified: bool


class Recipient(NamedTuple):
    contact_id: int
    key: str
    name: str
    audience: str
    function: str
    commune: str | None
    area_level: str
    area_code: str
    channels: tuple[ChannelAddress, ...]
    """Usable channels, in the contact's order of preference."""


class ToCall(NamedTuple):
    """A targeted contact with no usable channel: a person must phone them."""

    contact_id: int
    key: str
    name: str
    audience: str
    function: str
    commune: str | None
    area_level: str
    area_code: str
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Targeting:
    communes: tuple[str, ...]
    audiences: tuple[str, ...]
    exercise: bool
    recipients: tuple[Recipient, ...]
    to_call: tuple[ToCall, ...]

    def counts(self) -> dict[str, int]:
        """Targeted contacts per audience, reachable or to call."""
        counts: dict[str, int] = {}
        audiences = [r.audience for r in self.recipients] + [t.audience for t in self.to_call]
        for audience in audiences:
            counts[audience] = counts.get(audience, 0) + 1
        return counts


def _audiences(audiences: Sequence[str]) -> list[str]:
    known = {a.value for a in ContactAudience}
    unknown = [a for a in audiences if a not in known and a not in NOT_IN_DIRECTORY]
    if unknown:
        raise ValueError(f"publics inconnus : {', '.join(unknown)}")
    return [a for a in dict.fromkeys(audiences) if a in known]


async def _area(session: AsyncSession, communes: Sequence[str]) -> dict[str, set[str]]:
    conn = await session.connection()
    rows = (
        await conn.execute(
            sa.select(
                COMMUNES.c.code, COMMUNES.c.arrondissement, COMMUNES.c.epci, COMMUNES.c.departement
            ).where(COMMUNES.c.code.in_(list(communes)))
        )
    ).all()
    levels: dict[str, set[str]] = {level.value: set() for level in AreaLevel}
    for code, arrondissement, epci, departement in rows:
        levels[AreaLevel.COMMUNE].add(code)
        levels[AreaLevel.DEPARTEMENT].add(departement)
        if arrondissement:
            levels[AreaLevel.ARRONDISSEMENT].add(arrondissement)
        if epci:
            levels[AreaLevel.EPCI].add(epci)
    return levels


def _condition(
    audiences: list[str], exercise: bool, area: dict[str, set[str]], bind: Params
) -> str:
    """Contacts in scope, as a flat OR of index-friendly branches (SQL on `contact c`).

    Each branch starts with the columns of `ix_contact_target` (audience, area_level,
    area_code) or `ix_contact_departement` (departement, audience), so that the database
    searches the index per branch instead of scanning every official of the country.
    """
    if exercise:
        return f"(c.audience = {bind(ContactAudience.EXERCISE.value)} AND c.active)"
    clauses: list[str] = []
    officials = ContactAudience.OFFICIALS.value
    if officials in audiences:
        clauses += [
            f"(c.audience = {bind(officials)} AND c.area_level = {bind(level)}"
            f" AND c.area_code IN {bind.many(sorted(codes))} AND c.active)"
            for level, codes in area.items()
            if codes
        ]
    wide = [a for a in audiences if a in AREA_WIDE]
    if wide:
        clauses.append(
            f"(c.departement IN {bind.many(sorted(area[AreaLevel.DEPARTEMENT]))}"
            f" AND c.audience IN {bind.many(wide)} AND c.active)"
        )
    return "(" + " OR ".join(clauses) + ")" if clauses else "(1 = 0)"


_NAME = (
    f"CASE WHEN c.kind = '{ContactKind.ORGANISATION.value}' OR c.first_name = ''"
    " THEN c.last_name ELSE c.first_name || ' ' || c.last_name END"
)
_COMMUNE = f"CASE WHEN c.area_level = '{AreaLevel.COMMUNE.value}' THEN c.area_code END"
_RANK = (
    "CASE c.audience "
    + " ".join(f"WHEN '{a.value}' THEN {i}" for i, a in enumerate(ContactAudience))
    + " ELSE 9 END"
)
_PHONE = AddressKind.PHONE.value
_SENDING = frozenset(k.value for k in SENDING_KINDS)


def _contacts_sql(in_scope: str, collate: str) -> str:
    """The contacts in scope, in the order of the lists (audience, commune, name, id).

    Text is compared by code point, as Python does (`collate`: `rawsql.code_point_order`).
    """
    return (
        f"SELECT c.id, c.key, {_NAME}, c.audience, c.function, {_COMMUNE}, c.area_level,"  # noqa: S608 (values are bound)
        f" c.area_code FROM contact c WHERE {in_scope}"
        f" ORDER BY {_RANK}, COALESCE({_COMMUNE}, ''){collate}, ({_NAME}){collate}, c.id"
    )


def _channels_sql(in_scope: str) -> str:
    """Active channels of the contacts in scope, in each contact's order of preference."""
    return (
        "SELECT ch.contact_id, ch.id, ch.kind, ch.address, ch.verified"  # noqa: S608 (values are bound)
        " FROM contact_channel ch"
        f" WHERE ch.contact_id IN (SELECT c.id FROM contact c WHERE {in_scope}) AND ch.active"
        " ORDER BY ch.contact_id, ch.preference, ch.verified DESC, ch.id"
    )


async def target(
    session: AsyncSession, *, communes: list[str], audiences: list[str], exercise: bool
) -> Targeting:
    """The contacts an area's bulletin goes to, each with its usable channels in order.

    Officials: mayors and adjoints of the communes, and officials whose area of competence
    (EPCI, arrondissement, département) covers one of them. Media and staff: every one of
    the départements touched. In exercise mode only `exercise` contacts, whatever is asked.
    Contacts with no usable channel are in `to_call`, with their phone numbers.
    """
    wanted = _audiences(audiences)
    area = await _area(session, communes)
    if not exercise and (not wanted or not area[AreaLevel.COMMUNE]):
        return Targeting(tuple(communes), tuple(wanted), exercise, (), ())
    return await _target(session, communes, wanted, exercise, area)


async def _target(
    session: AsyncSession,
    communes: list[str],
    wanted: list[str],
    exercise: bool,
    area: dict[str, set[str]],
) -> Targeting:
    conn = await session.connection()
    bind = Params(conn)
    in_scope = _condition(wanted, exercise, area, bind)
    # Plain driver tuples (no SQLAlchemy rows), contacts already in the lists' order; the
    # channels are grouped by contact id with dict lookups, each object built by
    # `tuple.__new__` (no __init__ call).
    contacts = await fetch_all(conn, _contacts_sql(in_scope, code_point_order(conn)), bind.values)
    channels = await fetch_all(conn, _channels_sql(in_scope), bind.values)
    with collector_paused():  # synchronous: no await while the collector is off
        new = tuple.__new__
        sending: dict[int, list[ChannelAddress]] = {}
        phones: dict[int, list[str]] = {}
        for contact_id, channel_id, kind, address, verified in channels:
            if kind in _SENDING:
                usable = sending.get(contact_id)
                if usable is None:
                    usable = sending[contact_id] = []
                usable.append(new(ChannelAddress, (channel_id, kind, address, verified == 1)))
            elif kind == _PHONE:
                phones.setdefault(contact_id, []).append(address)
        recipients: list[Recipient] = []
        to_call: list[ToCall] = []
        none: tuple[str, ...] = ()
        for row in contacts:
            usable = sending.get(row[0])
            if usable:
                recipients.append(new(Recipient, (*row, tuple(usable))))
            else:
                to_call.append(new(ToCall, (*row, tuple(phones.get(row[0], none)))))
        return Targeting(
            tuple(communes), tuple(wanted), exercise, tuple(recipients), tuple(to_call)
        )


class Reach(NamedTuple):
    """How many contacts of one audience a bulletin targets, and how many must be phoned."""

    targeted: int
    to_call: int


async def _per_audience(
    session: AsyncSession,
    *,
    communes: list[str],
    audiences: list[str],
    exercise: bool,
    columns: Callable[[Params], str],
) -> tuple[list[str], list[Any]]:
    """`target`'s selection aggregated by the database per contact audience: the audiences
    asked, and one row per audience of `c.audience` then `columns` (none when nobody can be
    selected: no audience, or a real bulletin without a commune)."""
    wanted = _audiences(audiences)
    area = await _area(session, communes)
    if not wanted or (not exercise and not area[AreaLevel.COMMUNE]):
        return wanted, []
    conn = await session.connection()
    bind = Params(conn)
    selected = columns(bind)  # bound first: it comes first in the statement
    in_scope = _condition(wanted, exercise, area, bind)
    sql = f"SELECT c.audience, {selected} FROM contact c WHERE {in_scope} GROUP BY c.audience"  # noqa: S608 (values are bound)
    return wanted, list(await fetch_all(conn, sql, bind.values))


async def reach(
    session: AsyncSession,
    *,
    communes: list[str],
    audiences: list[str],
    exercise: bool,
    channels: Sequence[str],
) -> dict[str, Reach]:
    """`target`'s selection counted by the database, per contact audience: a contact is to
    call when none of its usable channels is among `channels` (as the fan-out decides)."""

    def to_call(bind: Params) -> str:
        kinds = bind.many(sorted(_SENDING & set(channels)))
        return (
            "COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM contact_channel ch"  # noqa: S608 (values are bound)
            f" WHERE ch.contact_id = c.id AND ch.active AND ch.kind IN {kinds}) THEN 0 ELSE 1 END)"
        )

    _, rows = await _per_audience(
        session, communes=communes, audiences=audiences, exercise=exercise, columns=to_call
    )
    return {audience: Reach(int(n), int(calls or 0)) for audience, n, calls in rows}


async def count(
    session: AsyncSession, *, communes: list[str], audiences: list[str], exercise: bool
) -> dict[str, int]:
    """How many contacts `target` picks for an area, per audience it counts them in: the same
    selection, one aggregate (no rows). In exercise mode the `exercise` contacts are shared
    between the audiences asked, in turn, as their deliveries play them."""
    wanted, rows = await _per_audience(
        session,
        communes=communes,
        audiences=audiences,
        exercise=exercise,
        columns=lambda _: "count(*)",
    )
    found = {audience: int(n) for audience, n in rows}
    if exercise:
        people = found.get(ContactAudience.EXERCISE.value, 0)
        return {a: len(range(i, people, len(wanted))) for i, a in enumerate(wanted)}
    return found
