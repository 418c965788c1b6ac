"""What the tracking page shows of each person to call: commune, function, every known number
(their own and their mairie's) and a link to their entry in the directory.

Numbers are personal data (`crisis.privacy`): a role without need-to-know gets none; the
function and the place are not, and are shown to everyone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from contacts.directory import (
    FUNCTION_LABELS,
    AddressKind,
    AreaLevel,
    Contact,
    ContactChannel,
    ContactKind,
)

NUMBER_KINDS = {AddressKind.PHONE: "Téléphone", AddressKind.SMS: "Mobile"}


@dataclass(frozen=True, slots=True)
class Number:
    label: str
    number: str


@dataclass(frozen=True, slots=True)
class ToCall:
    """One person to call, as the tracking page's row shows them."""

    contact_id: int
    function: str
    commune: str | None
    numbers: list[Number] = field(default_factory=list)


async def _numbers(session: AsyncSession, contact_ids: Iterable[int]) -> dict[int, list[Number]]:
    ids = sorted(set(contact_ids))
    query = (
        select(ContactChannel)
        .where(
            col(ContactChannel.contact_id).in_(ids),
            col(ContactChannel.kind).in_(list(NUMBER_KINDS)),
            col(ContactChannel.active),
        )
        .order_by(col(ContactChannel.preference), col(ContactChannel.id))
    )
    found: dict[int, list[Number]] = {}
    for channel in (await session.exec(query)).all() if ids else []:
        number = Number(NUMBER_KINDS[AddressKind(channel.kind)], channel.address)
        if number not in found.setdefault(channel.contact_id, []):
            found[channel.contact_id].append(number)
    return found


async def details(
    session: AsyncSession, contact_ids: Iterable[int | None], *, personal: bool
) -> dict[int, ToCall]:
    """Each contact's row details, by contact id (a page's worth: a few queries in all)."""
    ids = sorted({i for i in contact_ids if i is not None})
    if not ids:
        return {}
    contacts = (await session.exec(select(Contact).where(col(Contact.id).in_(ids)))).all()
    codes = sorted({c.area_code for c in contacts if c.area_level == AreaLevel.COMMUNE})
    names = {c.code: c.name for c in await geography.communes_by_code(session, codes=codes)}
    mairies: dict[str, list[int]] = {}
    if codes and personal:
        query = select(Contact.id, Contact.area_code).where(
            Contact.kind == ContactKind.ORGANISATION,
            Contact.area_level == AreaLevel.COMMUNE,
            col(Contact.area_code).in_(codes),
        )
        for mairie_id, code in (await session.exec(query)).all():
            mairies.setdefault(code, []).append(mairie_id or 0)
    own = await _numbers(session, ids) if personal else {}
    theirs = await _numbers(session, (i for m in mairies.values() for i in m))
    shown: dict[int, ToCall] = {}
    for contact in contacts:
        assert contact.id is not None
        commune = names.get(contact.area_code) if contact.area_level == AreaLevel.COMMUNE else None
        numbers = list(own.get(contact.id, []))
        for mairie_id in mairies.get(contact.area_code, []) if commune else []:
            numbers += [
                Number(f"Mairie ({n.label.lower()})", n.number) for n in theirs.get(mairie_id, [])
            ]
        function = FUNCTION_LABELS.get(contact.function, contact.function)
        shown[contact.id] = ToCall(contact.id, function, commune, numbers)
    return shown
