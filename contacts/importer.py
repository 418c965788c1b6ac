"""All-or-nothing imports: stream the file, validate every line, apply the diff in batches.

One pass: records are looked up by key a batch at a time and written through Core
executemany; the first bad line stops the writing (validation goes on to name every bad
line), and a savepoint rolls back what was written. Memory holds one batch plus one small
integer per key of the file (to find duplicates and the mayors who left office).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import BinaryIO

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import csvformat, rne
from contacts.csvsource import CsvSource
from contacts.directory import Contact, ContactChannel, Function
from contacts.geography import geo_index
from contacts.records import ContactRecord, LineError, contact_values, fingerprint

BATCH = 5000
KEY_SAMPLE = 1000
MAX_ERRORS = 10_000
CONTACTS = Contact.__table__  # type: ignore[attr-defined]
CHANNELS = ContactChannel.__table__  # type: ignore[attr-defined]


class ImportFormat(StrEnum):
    RNE_MAIRES = "rne-maires"
    TOCSIN = "tocsin"


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
        keys = [r.key for r in batch]
        # One query for the batch's known contacts and their channels (one IN list).
        c, ch = CONTACTS.c, CHANNELS.c
        found = await conn.execute(
            sa.select(
                c.id, c.key, c.fingerprint, c.active,
                ch.id, ch.kind, ch.address, ch.verified, ch.active, ch.preference,
            )
            .select_from(CONTACTS.outerjoin(CHANNELS, ch.contact_id == c.id))
            .where(c.key.in_(keys))
        )  # fmt: skip
        existing: dict[str, tuple[int, str, bool]] = {}
        channels: dict[tuple[int, str, str], tuple[int, bool, bool, int]] = {}
        for cid, key, fp, active, chid, kind, address, verified, ch_active, pref in found.all():
            existing[key] = (cid, fp, active)
            if chid is not None:
                channels[(cid, kind, address)] = (chid, verified, ch_active, pref)
        inserts: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        changed: set[str] = set()
        report = self.report
        for record in batch:
            known = existing.get(record.key)
            if known is None:
                if not record.describes_contact:
                    report.error(
                        LineError(
                            record.line,
                            f"aucun contact de clé « {record.key} » "
                            "(nom, public, fonction, zone et code_zone requis)",
                        )
                    )
                    continue
                inserts.append(self._values(record))
                report.added += 1
                report.note(report.added_keys, record.key)
                continue
            if record.describes_contact:
                values = self._values(record)
                if values["fingerprint"] != known[1] or values["active"] != known[2]:
                    values["_id"] = known[0]
                    updates.append(values)
                    changed.add(record.key)
                    report.updated += 1
                    report.note(report.updated_keys, record.key)
                    continue
            if not record.channels:
                report.unchanged += 1
        ids = {key: known[0] for key, known in existing.items()}
        if self.writing and inserts:
            result = await conn.execute(
                sa.insert(CONTACTS).returning(CONTACTS.c.id, CONTACTS.c.key), inserts
            )
            ids.update({key: cid for cid, key in result.all()})
        if self.writing and updates:
            columns = [k for k in updates[0] if k not in ("_id", "key", "source")]
            statement = (
                sa.update(CONTACTS)
                .where(CONTACTS.c.id == sa.bindparam("_id"))
                .values({c: sa.bindparam(c) for c in columns})
            )
            await conn.execute(statement, [{k: u[k] for k in [*columns, "_id"]} for u in updates])
        with_channels = [r for r in batch if r.channels]
        if with_channels:
            await self._channels(conn, with_channels, ids, existing, changed, channels)

    def _values(self, record: ContactRecord) -> dict[str, object]:
        values = contact_values(record)
        values.update(
            key=record.key,
            fingerprint=fingerprint(values),
            source=self.source,
            updated_at=self.now,
            erased=False,
        )
        return values

    async def _channels(
        self,
        conn: AsyncConnection,
        records: list[ContactRecord],
        ids: dict[str, int],
        existing: dict[str, tuple[int, str, bool]],
        changed: set[str],
        current: dict[tuple[int, str, str], tuple[int, bool, bool, int]],
    ) -> None:
        inserts: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        for record in records:
            contact_id = ids.get(record.key)
            touched = False
            for channel in record.channels:
                wanted = (channel.verified, channel.active, channel.preference)
                now = current.get((contact_id or 0, channel.kind, channel.address))
                if now is None:
                    inserts.append(
                        {
                            "contact_id": contact_id,
                            "kind": channel.kind,
                            "address": channel.address,
                            "verified": channel.verified,
                            "active": channel.active,
                            "preference": channel.preference,
                        }
                    )
                    self.report.channels_added += 1
                    touched = True
                elif now[1:] != wanted:
                    updates.append(
                        {
                            "_id": now[0],
                            "verified": channel.verified,
                            "active": channel.active,
                            "preference": channel.preference,
                        }
                    )
                    self.report.channels_updated += 1
                    touched = True
            if record.key in existing and record.key not in changed:
                if touched:
                    self.report.updated += 1
                    self.report.note(self.report.updated_keys, record.key)
                else:
                    self.report.unchanged += 1
        if self.writing and inserts:
            await conn.execute(sa.insert(CHANNELS), inserts)
        if self.writing and updates:
            statement = (
                sa.update(CHANNELS)
                .where(CHANNELS.c.id == sa.bindparam("_id"))
                .values(
                    verified=sa.bindparam("verified"),
                    active=sa.bindparam("active"),
                    preference=sa.bindparam("preference"),
                )
            )
            await conn.execute(statement, updates)

    async def deactivate_missing_mayors(self, *, seen: set[int], departements: set[str]) -> None:
        """Mayors of the file's départements that the file no longer lists left office."""
        if not departements:
            return
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


async def import_contacts(
    session: AsyncSession,
    *,
    stream: BinaryIO | Iterable[bytes],
    fmt: ImportFormat,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a file in the caller's transaction; a bad file writes nothing."""
    report = ImportReport(format=fmt.value, dry_run=dry_run)
    geo = await geo_index(session)
    source = CsvSource(stream)
    applier = Applier(
        session, report=report, source="rne" if fmt == "rne-maires" else "tocsin", now=now
    )
    await applier.load_tombstones()
    savepoint = None if dry_run else await session.begin_nested()
    parser = (
        rne.parse(source, geo) if fmt == ImportFormat.RNE_MAIRES else csvformat.parse(source, geo)
    )
    seen_keys: dict[int, int] = {}
    seen_communes: dict[str, int] = {}
    departements: set[str] = set()
    for item in parser:
        if source.errors:
            for error in source.errors:
                report.error(error)
            source.errors.clear()
        if isinstance(item, LineError):
            report.error(item)
            continue
        if fmt == ImportFormat.RNE_MAIRES:
            first = seen_keys.setdefault(hash(item.key), item.line)
            same_commune = seen_communes.setdefault(item.area_code or "", item.line)
            if first != item.line:
                report.error(LineError(item.line, f"élu en double (déjà ligne {first})"))
                continue
            if same_commune != item.line:
                report.error(
                    LineError(
                        item.line,
                        f"deuxième maire pour la commune « {item.area_code} » "
                        f"(déjà ligne {same_commune})",
                    )
                )
                continue
            departements.add(item.departement or "")
        await applier.add(item)
        if progress is not None and report.records % BATCH == 0:
            progress(source.bytes_read)
    for error in source.errors:
        report.error(error)
    await applier.flush()
    if fmt == ImportFormat.RNE_MAIRES and report.ok:
        await applier.deactivate_missing_mayors(seen=set(seen_keys), departements=departements)
    if report.records == 0 and report.ok:
        report.error(LineError(1, "aucune ligne de données"))
    report.errors.sort(key=lambda e: e.line)
    if progress is not None:
        progress(source.bytes_read)
    if savepoint is not None:
        if report.ok:
            await savepoint.commit()
            report.written = True
        else:
            await savepoint.rollback()
    return report
