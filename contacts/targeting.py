"""Who receives a bulletin: the exact recipients of an area, and who must be phoned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import (
    SENDING_KINDS,
    AreaLevel,
    Audience,
    ChannelKind,
    Contact,
    ContactChannel,
    ContactKind,
)
from contacts.geography import Commune

CONTACTS = Contact.__table__  # type: ignore[attr-defined]
CHANNELS = ContactChannel.__table__  # type: ignore[attr-defined]
COMMUNES = Commune.__table__  # type: ignore[attr-defined]
AREA_WIDE = frozenset({Audience.MEDIA, Audience.STAFF, Audience.EXERCISE})
"""Audiences reached across each département the area touches, not by area of competence."""
NOT_IN_DIRECTORY = frozenset({"public"})
_SEP = "\x1f"
_ORDER: dict[str, int] = {a.value: i for i, a in enumerate(Audience)}


@dataclass(frozen=True, slots=True)
class ChannelAddress:
    channel_id: int
    kind: str
    address: str
    verified: bool


@dataclass(frozen=True, slots=True)
class Recipient:
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


@dataclass(frozen=True, slots=True)
class ToCall:
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
    known = {a.value for a in Audience}
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
    audiences: list[str], exercise: bool, area: dict[str, set[str]]
) -> sa.ColumnElement[bool]:
    c = CONTACTS.c
    if exercise:
        return sa.and_(c.audience == Audience.EXERCISE, c.active)
    clauses: list[sa.ColumnElement[bool]] = []
    if Audience.OFFICIALS in audiences:
        by_level = [
            sa.and_(c.area_level == level, c.area_code.in_(sorted(codes)))
            for level, codes in area.items()
            if codes
        ]
        clauses.append(sa.and_(c.audience == Audience.OFFICIALS, sa.or_(*by_level)))
    wide = [a for a in audiences if a in AREA_WIDE]
    if wide:
        departements = sorted(area[AreaLevel.DEPARTEMENT])
        clauses.append(sa.and_(c.audience.in_(wide), c.departement.in_(departements)))
    return sa.and_(c.active, sa.or_(*clauses))


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
    c, ch = CONTACTS.c, CHANNELS.c
    kinds = sorted({*SENDING_KINDS, ChannelKind.PHONE})
    # One row per contact, its channels folded into one string: `preference|verified|kind|id|
    # address` items separated by \x1f (sorted here, as group_concat keeps no order).
    item = (
        sa.cast(ch.preference + 10_000, sa.String)
        + "|"
        + sa.case((ch.verified, "0"), else_="1")
        + "|"
        + ch.kind
        + "|"
        + sa.cast(ch.id, sa.String)
        + "|"
        + ch.address
    )
    query = (
        sa.select(
            c.id,
            c.key,
            c.kind,
            c.audience,
            c.function,
            c.last_name,
            c.first_name,
            c.area_level,
            c.area_code,
            sa.func.aggregate_strings(item, _SEP),
        )
        .select_from(
            CONTACTS.outerjoin(
                CHANNELS,
                sa.and_(ch.contact_id == c.id, ch.active, ch.kind.in_(kinds)),
            )
        )
        .where(_condition(wanted, exercise, area))
        .group_by(c.id)
    )
    rows = (await (await session.connection()).execute(query)).all()
    recipients: list[Recipient] = []
    to_call: list[ToCall] = []
    for cid, key, kind, audience, function, last, first_name, level, code, folded in rows:
        sending: list[ChannelAddress] = []
        phones: list[str] = []
        for entry in sorted(folded.split(_SEP)) if folded else ():
            _, unverified, channel_kind, channel_id, address = entry.split("|", 4)
            if channel_kind == ChannelKind.PHONE:
                phones.append(address)
            else:
                sending.append(
                    ChannelAddress(int(channel_id), channel_kind, address, unverified == "0")
                )
        name = (
            last if kind == ContactKind.ORGANISATION or not first_name else f"{first_name} {last}"
        )
        commune = code if level == AreaLevel.COMMUNE else None
        if sending:
            recipients.append(
                Recipient(cid, key, name, audience, function, commune, level, code, tuple(sending))
            )
        else:
            to_call.append(
                ToCall(cid, key, name, audience, function, commune, level, code, tuple(phones))
            )
    recipients.sort(key=lambda r: (_ORDER.get(r.audience, 9), r.commune or "", r.name))
    to_call.sort(key=lambda r: (_ORDER.get(r.audience, 9), r.commune or "", r.name))
    return Targeting(tuple(communes), tuple(wanted), exercise, tuple(recipients), tuple(to_call))
