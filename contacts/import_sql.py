"""The import's statements as the driver takes them: plain tuples, `?` or `$n` placeholders.

Going around SQLAlchemy's parameter processing (a dictionary and type processors per row)
halves the writing time of a large import; the few typed values (dates, UTC instants) are
bound once through the columns' own processors, so the stored form is SQLAlchemy's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from contacts.directory import Contact
from contacts.records import ContactRecord, contact_values, fingerprint
from storage.backend import bind_processor, on_postgres

CONTACTS = Contact.__table__  # type: ignore[attr-defined]
RECORD_COLUMNS = (
    "kind", "audience", "function", "last_name", "first_name", "organisation", "search_name",
    "area_level", "area_code", "departement", "function_since", "fingerprint", "active",
)  # fmt: skip
"""The columns a full record sets (`record_row`)."""
CONTACT_COLUMNS = (*RECORD_COLUMNS, "key", "source", "erased", "updated_at")
FINGERPRINT = CONTACT_COLUMNS.index("fingerprint")
ACTIVE = CONTACT_COLUMNS.index("active")
RECORDED = len(RECORD_COLUMNS)
_UPDATED = (*RECORD_COLUMNS, "erased", "updated_at")
# Statements with `{}` for the placeholders (the driver's own: `?` or `$n`).
INSERT_CONTACT = (
    f"INSERT INTO contact ({', '.join(CONTACT_COLUMNS)})"  # noqa: S608 (values are bound)
    f" VALUES ({', '.join(['{}'] * len(CONTACT_COLUMNS))})"
)
UPDATE_CONTACT = (
    "UPDATE contact SET "  # noqa: S608 (values are bound)
    + ", ".join(f"{c} = {{}}" for c in _UPDATED)
    + " WHERE id = {}"
)
INSERT_CHANNEL = (
    "INSERT INTO contact_channel (contact_id, kind, address, verified, active, preference)"
    " VALUES ({}, {}, {}, {}, {}, {})"
)
UPDATE_CHANNEL = (
    "UPDATE contact_channel SET verified = {}, active = {}, preference = {} WHERE id = {}"
)
IDS_SQL = "SELECT id, key FROM contact WHERE key "
EXISTING_SQL = (
    "SELECT c.id, c.key, c.fingerprint, c.active,"
    " ch.id, ch.kind, ch.address, ch.verified, ch.active, ch.preference"
    " FROM contact c LEFT JOIN contact_channel ch ON ch.contact_id = c.id WHERE c.key "
)


def record_row(
    record: ContactRecord, bind_date: Callable[[object], object] | None = None
) -> tuple[object, ...]:
    """A full record's `RECORD_COLUMNS` values (its `function_since` bound by `bind_date`).

    Spelt out rather than mapped over the column names: this runs for every row of a file.
    """
    values = contact_values(record)
    since = values["function_since"]
    return (
        values["kind"], values["audience"], values["function"], values["last_name"],
        values["first_name"], values["organisation"], values["search_name"],
        values["area_level"], values["area_code"], values["departement"],
        since if bind_date is None else bind_date(since), fingerprint(values), values["active"],
    )  # fmt: skip


class Binder:
    """Python values as the driver stores them for our column types (dates, UTC instants)."""

    def __init__(self, conn: AsyncConnection, now: datetime) -> None:
        self.numbered = on_postgres(conn)
        self._date = bind_processor(conn, CONTACTS.c.function_since)
        stamp = bind_processor(conn, CONTACTS.c.updated_at)
        self.now = stamp(now) if stamp else now
        self._dates: dict[date | None, object] = {None: None}

    def date(self, value: object) -> object:
        """A `function_since` as the driver takes it (a file repeats its dates: cached)."""
        assert value is None or isinstance(value, date)
        if value in self._dates:
            return self._dates[value]
        bound = self._dates[value] = self._date(value) if self._date else value
        return bound

    def sql(self, template: str) -> str:
        """`template` with the driver's placeholders in place of its `{}`."""
        count = template.count("{}")
        if self.numbered:
            return template.format(*(f"${n}" for n in range(1, count + 1)))
        return template.format(*("?" * count))
