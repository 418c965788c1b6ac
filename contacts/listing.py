"""Reading the directory: filtered listings, one contact with its channels, CSV export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from contacts import csvformat
from contacts.directory import AreaLevel, Contact, ContactChannel
from contacts.geography import Commune, search_key


@dataclass(frozen=True, slots=True)
class Filters:
    audience: str | None = None
    commune: str | None = None
    arrondissement: str | None = None
    epci: str | None = None
    q: str | None = None
    active_only: bool = False


def _conditions(filters: Filters) -> list[sa.ColumnElement[bool]]:
    level, code = col(Contact.area_level), col(Contact.area_code)
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.audience:
        conditions.append(col(Contact.audience) == filters.audience)
    if filters.active_only:
        conditions.append(col(Contact.active).is_(True))
    if filters.commune:
        conditions.append(sa.and_(level == AreaLevel.COMMUNE, code == filters.commune))
    for name, wanted in (("arrondissement", filters.arrondissement), ("epci", filters.epci)):
        if wanted:
            column = col(Commune.arrondissement) if name == "arrondissement" else col(Commune.epci)
            in_area = select(Commune.code).where(column == wanted)
            conditions.append(
                sa.or_(
                    sa.and_(level == name, code == wanted),
                    sa.and_(level == AreaLevel.COMMUNE, code.in_(in_area)),
                )
            )
    if filters.q:
        key = search_key(filters.q).replace("%", "").replace("_", " ")
        conditions.append(col(Contact.search_name).like(f"%{key}%"))
    return conditions


def _filtered(query: SelectOfScalar[Contact], filters: Filters) -> SelectOfScalar[Contact]:
    conditions = _conditions(filters)
    return query.where(*conditions) if conditions else query


async def search(
    session: AsyncSession, *, filters: Filters, limit: int = 100, offset: int = 0
) -> tuple[int, list[Contact]]:
    """(total matching, one page of contacts sorted by name)."""
    count = select(func.count(col(Contact.id)))
    conditions = _conditions(filters)
    total = (await session.exec(count.where(*conditions) if conditions else count)).one()
    query = (
        _filtered(select(Contact), filters)
        .order_by(col(Contact.last_name), col(Contact.first_name), col(Contact.id))
        .limit(limit)
        .offset(offset)
    )
    return int(total), list((await session.exec(query)).all())


async def channels_of(
    session: AsyncSession, *, contact_ids: list[int]
) -> dict[int, list[ContactChannel]]:
    found: dict[int, list[ContactChannel]] = {cid: [] for cid in contact_ids}
    if not contact_ids:
        return found
    query = (
        select(ContactChannel)
        .where(col(ContactChannel.contact_id).in_(contact_ids))
        .order_by(
            col(ContactChannel.contact_id), col(ContactChannel.preference), col(ContactChannel.id)
        )
    )
    for channel in (await session.exec(query)).all():
        found[channel.contact_id].append(channel)
    return found


async def export_csv(session: AsyncSession, *, filters: Filters) -> AsyncIterator[str]:
    """Tocsin's CSV of the filtered directory, 1,000 contacts at a time."""
    yield csvformat.csv_line(csvformat.HEADER)
    last_id = 0
    while True:
        query = (
            _filtered(select(Contact), filters)
            .where(col(Contact.id) > last_id)
            .order_by(col(Contact.id))
            .limit(1000)
        )
        page = list((await session.exec(query)).all())
        if not page:
            return
        channels = await channels_of(session, contact_ids=[c.id for c in page if c.id])
        for contact in page:
            assert contact.id is not None
            for row in csvformat.export_rows(contact, channels[contact.id]):
                yield csvformat.csv_line(row)
        last_id = page[-1].id or last_id
