"""Applying contact records to the directory a batch at a time, and what an import did.

`Applier` looks records up by key a batch at a time and writes them with the driver's
executemany of plain tuples (`contacts.import_sql`); the PostgreSQL import stages them
instead (`contacts.import_pg`). The demo directory and the manual contact form use it too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import import_sql as sql
from contacts.directory import Contact, Function
from contacts.records import ContactRecord, LineError
from storage.rawsql import any_of, execute_many, fetch_all

BATCH = 5000
KEY_SAMPLE = 1000
MAX_ERRORS = 10_000
CONTACTS = Contact.__table__  # type: ignore[attr-defined]


@dataclass
class ImportReport:
    """What an import did (or, in a dry run or on a bad file, would have done)."""

    format: str
    dry_run: bool
    records: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    channels_added: int = 0
    channels_updated: int = 0
    skipped_erased: int = 0
    errors: list[LineError] = field(default_factory=list)
    errors_total: int = 0
    added_keys: list[str] = field(default_factory=list)
    updated_keys: list[str] = field(default_factory=list)
    deactivated_keys: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.errors_total == 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deactivated)

    def error(self, error: LineError) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def note(self, keys: list[str], key: str) -> None:
        if len(keys) < KEY_SAMPLE:
            keys.append(key)


def unknown_key(line: int, key: str) -> LineError:
    """A line that only adds channels, to a contact the directory does not have."""
    return LineError(
        line, f"aucun contact de clé « {key} » (nom, public, fonction, zone et code_zone requis)"
    )


def erased_key(key: str) -> str:
    """The tombstone an erased contact keeps, so that an import does not bring it back."""
    return "erased:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class Applier:
    """Applies records to the directory a batch at a time (or only counts, when not writing)."""

    def __init__(
        self, session: AsyncSession, *, report: ImportReport, source: str, now: datetime
    ) -> None:
        self.session = session
        self.report = report
        self.source = source
        self.now = now
        self.batch: list[ContactRecord] = []
        self.erased: set[str] = set()
        self._bind: sql.Binder | None = None

    @property
    def writing(self) -> bool:
        return not self.report.dry_run and self.report.ok

    async def load_tombstones(self) -> None:
        query = select(Contact.key).where(col(Contact.erased))
        self.erased = set((await self.session.exec(query)).all())

    async def add(self, record: ContactRecord) -> None:
        if self.erased and erased_key(record.key) in self.erased:
            self.report.skipped_erased += 1
            return
        self.report.records += 1
        self.batch.append(record)
        if len(self.batch) >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        conn = await self.session.connection()
        if self._bind is None:
            self._bind = sql.Binder(conn, self.now)
        # One query for the batch's known contacts and their channels (one bound list).
        keys = [r.key for r in batch]
        condition, param = any_of(conn, keys)
        found = await fetch_all(conn, sql.EXISTING_SQL + condition, [param])
        existing: dict[str, tuple[int, str, bool]] = {}
        channels: dict[tuple[int, str, str], tuple[int, bool, bool, int]] = {}
        for cid, key, fp, active, chid, kind, address, verified, ch_active, pref in found:
            existing[key] = (cid, fp, active)
            if chid is not None:
                channels[(cid, kind, address)] = (chid, verified, ch_active, pref)
        inserts: list[tuple[object, ...]] = []
        added_keys: list[str] = []
        updates: list[tuple[object, ...]] = []
        changed: set[str] = set()
        report = self.report
        for record in batch:
            known = existing.get(record.key)
            if known is None:
                if not record.describes_contact:
                    report.error(unknown_key(record.line, record.key))
                    continue
                inserts.append(self._row(record))
                added_keys.append(record.key)
                report.added += 1
                report.note(report.added_keys, record.key)
                continue
            if record.describes_contact:
                row = self._row(record)
                if row[sql.FINGERPRINT] != known[1] or row[sql.ACTIVE] != known[2]:
                    updates.append((*row[: sql.RECORDED], False, self._bind.now, known[0]))
                    changed.add(record.key)
                    report.updated += 1
                    report.note(report.updated_keys, record.key)
                    continue
            if not record.channels:
                report.unchanged += 1
        ids = {key: known[0] for key, known in existing.items()}
        if self.writing and inserts:
            await execute_many(conn, self._bind.sql(sql.INSERT_CONTACT), inserts)
            condition, param = any_of(conn, added_keys)
            added = await fetch_all(conn, sql.IDS_SQL + condition, [param])
            ids.update({key: cid for cid, key in added})
        if self.writing and updates:
            await execute_many(conn, self._bind.sql(sql.UPDATE_CONTACT), updates)
        with_channels = [r for r in batch if r.channels]
        if with_channels:
            await self._channels(conn, with_channels, ids, existing, changed, channels)

    def _row(self, record: ContactRecord) -> tuple[object, ...]:
        """The stored values of a full record, in `CONTACT_COLUMNS` order, bound for the driver."""
        assert self._bind is not None
        bind = self._bind
        return (*sql.record_row(record, bind.date), record.key, self.source, False, bind.now)

    async def _channels(
        self,
        conn: AsyncConnection,
        records: list[ContactRecord],
        ids: dict[str, int],
        existing: dict[str, tuple[int, str, bool]],
        changed: set[str],
        current: dict[tuple[int, str, str], tuple[int, bool, bool, int]],
    ) -> None:
        inserts: list[tuple[object, ...]] = []
        updates: list[tuple[object, ...]] = []
        for record in records:
            if record.key not in existing and not record.describes_contact:
                continue  # an unknown key: refused, its channels count for nothing
            contact_id = ids.get(record.key)
            touched = False
            for channel in record.channels:
                wanted = (channel.verified, channel.active, channel.preference)
                now = current.get((contact_id or 0, channel.kind, channel.address))
                if now is None:
                    inserts.append((contact_id, channel.kind, channel.address, *wanted))
                    self.report.channels_added += 1
                    touched = True
                elif now[1:] != wanted:
                    updates.append((*wanted, now[0]))
                    self.report.channels_updated += 1
                    touched = True
            if record.key in existing and record.key not in changed:
                if touched:
                    self.report.updated += 1
                    self.report.note(self.report.updated_keys, record.key)
                else:
                    self.report.unchanged += 1
        if self.writing and self._bind is not None:
            await execute_many(conn, self._bind.sql(sql.INSERT_CHANNEL), inserts)
            await execute_many(conn, self._bind.sql(sql.UPDATE_CHANNEL), updates)

    async def finish(self, *, seen: Container[int], departements: set[str]) -> None:
        """After the last record: the last batch, then the mayors who left office.

        `seen` holds the hashes of the file's keys, `departements` the départements of its
        mayors (none for other files); nothing is deactivated in a file with errors.
        """
        await self.flush()
        if departements and self.report.ok:
            await self.deactivate_missing_mayors(seen=seen, departements=departements)

    async def abandon(self) -> None:
        """The import failed: nothing is left in flight (see `StagedApplier`)."""

    async def deactivate_missing_mayors(
        self, *, seen: Container[int], departements: set[str]
    ) -> None:
        """Mayors of the file's départements that the file no longer lists left office."""
        conn = await self.session.connection()
        rows = await conn.execute(
            sa.select(CONTACTS.c.id, CONTACTS.c.key).where(
                CONTACTS.c.source == "rne",
                CONTACTS.c.function == Function.MAIRE,
                CONTACTS.c.active,
                CONTACTS.c.departement.in_(sorted(departements)),
            )
        )
        gone = [(cid, key) for cid, key in rows if hash(key) not in seen]
        for _, key in gone:
            self.report.deactivated += 1
            self.report.note(self.report.deactivated_keys, key)
        if self.writing and gone:
            await conn.execute(
                sa.update(CONTACTS)
                .where(CONTACTS.c.id == sa.bindparam("_id"))
                .values(active=False, updated_at=self.now),
                [{"_id": cid} for cid, _ in gone],
            )
