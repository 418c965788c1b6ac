"""Personal data: everything held about one person, and erasure by pseudonymisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import Contact, ContactChannel
from contacts.importer import erased_key
from contacts.roster import Shift

ERASED_NAME = "Personne effacée"


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure removed: the terms to pseudonymise wherever else they were written."""

    contact_id: int
    pseudonym: str
    terms: tuple[str, ...]


def contact_data(contact: Contact, channels: list[ContactChannel]) -> dict[str, Any]:
    return {
        "id": contact.id,
        "key": contact.key,
        "kind": contact.kind,
        "audience": contact.audience,
        "function": contact.function,
        "last_name": contact.last_name,
        "first_name": contact.first_name,
        "name": contact.display_name,
        "organisation": contact.organisation,
        "area_level": contact.area_level,
        "area_code": contact.area_code,
        "departement": contact.departement,
        "function_since": contact.function_since.isoformat() if contact.function_since else None,
        "source": contact.source,
        "active": contact.active,
        "erased": contact.erased,
        "updated_at": contact.updated_at.isoformat(),
        "channels": [
            {
                "id": c.id,
                "kind": c.kind,
                "address": c.address,
                "verified": c.verified,
                "active": c.active,
                "preference": c.preference,
            }
            for c in channels
        ],
    }


async def _channels(session: AsyncSession, contact_id: int) -> list[ContactChannel]:
    query = (
        select(ContactChannel)
        .where(ContactChannel.contact_id == contact_id)
        .order_by(col(ContactChannel.preference), col(ContactChannel.id))
    )
    return list((await session.exec(query)).all())


async def person_export(session: AsyncSession, *, contact: Contact) -> dict[str, Any]:
    """The directory's part of a subject access request: the contact, channels, shifts."""
    assert contact.id is not None
    shifts = (await session.exec(select(Shift).where(Shift.contact_id == contact.id))).all()
    data = contact_data(contact, await _channels(session, contact.id))
    data["roster"] = [
        {
            "role": s.role,
            "level": s.level,
            "starts_at": s.starts_at.isoformat(),
            "ends_at": s.ends_at.isoformat(),
        }
        for s in shifts
    ]
    return data


async def erase(session: AsyncSession, *, contact: Contact, now: datetime) -> Erasure:
    """Pseudonymise a contact in place: name, key, channels; rows stay for references."""
    assert contact.id is not None
    channels = await _channels(session, contact.id)
    terms = [contact.key, contact.display_name, contact.last_name]
    terms += [c.address for c in channels]
    pseudonym = f"contact-{contact.id}"
    contact.key = erased_key(contact.key)
    contact.last_name = ERASED_NAME
    contact.first_name = ""
    contact.search_name = ""
    contact.function_since = None
    contact.active = False
    contact.erased = True
    contact.fingerprint = ""
    contact.updated_at = now
    session.add(contact)
    for n, channel in enumerate(channels, start=1):
        channel.address = f"effacé-{contact.id}-{n}"
        channel.active = False
        channel.verified = False
        session.add(channel)
    shifts = (await session.exec(select(Shift).where(Shift.contact_id == contact.id))).all()
    for shift in shifts:
        shift.name = ERASED_NAME
        session.add(shift)
    await session.flush()
    unique = tuple(dict.fromkeys(t for t in terms if len(t) >= 3))
    return Erasure(contact.id, pseudonym, unique)
