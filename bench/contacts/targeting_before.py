"""`contacts.targeting` as it was before the driver-tuple rewrite, for an A/B in one process."""

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
    """Contacts in scope, as a flat OR of index-friendly branches.

    Each branch starts with the columns of `ix_contact_target` (audience, area_level,
    area_code) or `ix_contact_departement` (departement, audience), so that the database
    searches the index per branch instead of scanning every official of the country.
    """
    c = CONTACTS.c
    if exercise:
        return sa.and_(c.audience == Audience.EXERCISE, c.active)
    clauses: list[sa.ColumnElement[bool]] = []
    if Audience.OFFICIALS in audiences:
        clauses += [
            sa.and_(
                c.audience == Audience.OFFICIALS,
                c.area_level == level,
                c.area_code.in_(sorted(codes)),
                c.active,
            )
            for level, codes in area.items()
            if codes
        ]
    wide = [a for a in audiences if a in AREA_WIDE]
    if wide:
        departements = sorted(area[AreaLevel.DEPARTEMENT])
        clauses.append(sa.and_(c.departement.in_(departements), c.audience.in_(wide), c.active))
    return sa.or_(*clauses)


_C = CONTACTS.c
_CH = CHANNELS.c
_NAME = sa.case(
    (sa.or_(_C.kind == ContactKind.ORGANISATION, _C.first_name == ""), _C.last_name),
    else_=_C.first_name + " " + _C.last_name,
)
_COMMUNE = sa.case((_C.area_level == AreaLevel.COMMUNE, _C.area_code), else_=sa.null())
_PHONE = ChannelKind.PHONE.value
_SENDING = frozenset(k.value for k in SENDING_KINDS)


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
    in_scope = _condition(wanted, exercise, area)
    conn = await session.connection()
    # Two narrow Core queries of plain tuples (no ORM entities): the contacts in scope, and
    # their active channels already in order of preference; grouped here by contact id.
    contacts = (
        await conn.execute(
            sa.select(
                _C.id, _C.key, _NAME, _C.audience, _C.function, _COMMUNE, _C.area_level,
                _C.area_code,
            ).where(in_scope)
        )
    ).all()  # fmt: skip
    channels = (
        await conn.execute(
            sa.select(_CH.contact_id, _CH.id, _CH.kind, _CH.address, _CH.verified)
            .where(_CH.contact_id.in_(sa.select(_C.id).where(in_scope)), _CH.active)
            .order_by(_CH.contact_id, _CH.preference, _CH.verified.desc(), _CH.id)
        )
    ).all()  # fetchall: iterating the result would fetch row by row
    sending: dict[int, list[ChannelAddress]] = {}
    phones: dict[int, list[str]] = {}
    for contact_id, channel_id, kind, address, verified in channels:
        if kind == _PHONE:
            phones.setdefault(contact_id, []).append(address)
        elif kind in _SENDING:
            sending.setdefault(contact_id, []).append(
                ChannelAddress(channel_id, kind, address, verified)
            )
    recipients: list[Recipient] = []
    to_call: list[ToCall] = []
    for cid, key, name, audience, function, commune, level, code in contacts:
        usable = sending.get(cid)
        if usable:
            recipients.append(
                Recipient(cid, key, name, audience, function, commune, level, code, tuple(usable))
            )
        else:
            to_call.append(
                ToCall(cid, key, name, audience, function, commune, level, code,
                       tuple(phones.get(cid, ())))
            )  # fmt: skip
    order = _ORDER.get
    recipients.sort(key=lambda r: (order(r.audience, 9), r.commune or "", r.name, r.contact_id))
    to_call.sort(key=lambda t: (order(t.audience, 9), t.commune or "", t.name, t.contact_id))
    return Targeting(tuple(communes), tuple(wanted), exercise, tuple(recipients), tuple(to_call))
