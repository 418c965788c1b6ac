"""The PostgreSQL import: records copied into temporary tables, the diff computed in SQL.

Looking each batch up and writing it row by row costs PostgreSQL a statement per row; here
the parsed records go by binary COPY into two temporary tables a chunk at a time, and a
handful of set-based statements count what the chunk changes and, while the file has no
error and is not a dry run, apply it: UPDATE … FROM for the contacts whose fingerprint or
active flag changed, INSERT … SELECT for the new ones, the same for their channels.
PostgreSQL writes a chunk while the next one is parsed. All of it runs in the import's
transaction, under its savepoint (rolled back if a later line is bad); the staging tables
are dropped at the end (or with the transaction, should it end first)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Container
from datetime import datetime
from typing import Any, NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import import_sql as sql
from contacts.applier import KEY_SAMPLE, MAX_ERRORS, Applier, ImportReport, unknown_key
from contacts.records import ContactRecord
from storage.rawsql import copy_rows, fetch_all

CHUNK = 50_000
"""Records staged, diffed and written at a time."""
YIELD_EVERY = 256
"""Records read between two chances for the chunk in hand to send its next statement."""
CONTACTS = "tocsin_import_contact"
CHANNELS = "tocsin_import_channel"
CONTACT_COLUMNS = ("line", "key", "describes", *sql.RECORD_COLUMNS)
CHANNEL_COLUMNS = ("line", "key", "kind", "address", "verified", "active", "preference")
_NO_CONTACT = (None,) * len(sql.RECORD_COLUMNS)
_TYPES = {"function_since": "date", "active": "boolean"}
_RECORD_TYPES = ", ".join(f"{c} {_TYPES.get(c, 'text')}" for c in sql.RECORD_COLUMNS)
CREATE = (
    f"CREATE TEMPORARY TABLE {CONTACTS} (line integer NOT NULL, key text NOT NULL,"
    f" describes boolean NOT NULL, {_RECORD_TYPES})"
    " ON COMMIT DROP",
    f"CREATE TEMPORARY TABLE {CHANNELS} (line integer NOT NULL, key text NOT NULL,"
    " kind text NOT NULL, address text NOT NULL, verified boolean NOT NULL,"
    " active boolean NOT NULL, preference integer NOT NULL) ON COMMIT DROP",
)
TRUNCATE = (f"TRUNCATE {CONTACTS}, {CHANNELS}",)
ANALYZE = f"ANALYZE {CONTACTS}, {CHANNELS}"
"""The chunk's row counts for the planner (temporary tables have no statistics otherwise)."""
DROP = f"DROP TABLE IF EXISTS {CONTACTS}, {CHANNELS}"
NO_JIT = "SELECT current_setting('jit'), set_config('jit', 'off', true)"
"""No JIT compilation (up to a second a chunk) for these short statements; see `RESET_JIT`."""
RESET_JIT = "SELECT set_config('jit', $1, true)"
_CHANGED = "(c.fingerprint <> s.fingerprint OR c.active <> s.active)"
_CHANNEL_CHANGED = "(ch.verified, ch.active, ch.preference) <> (i.verified, i.active, i.preference)"
_SAME_CHANNEL = "ch.contact_id = c.id AND ch.kind = i.kind AND ch.address = i.address"
_STATUS = (
    "CASE WHEN c.id IS NULL AND s.describes THEN 'added' WHEN c.id IS NULL THEN 'unknown'"
    f" WHEN s.describes AND {_CHANGED} THEN 'changed' ELSE 'same' END"
)
# What a staged chunk does to its contacts: how many are added, changed (their own row),
# the same, unknown (channels for a key the directory does not have), the same but for
# channels to add or change (touched); how many channels are added and changed; the keys
# added, the keys updated (changed or touched), the lines and keys unknown, in file order,
# cut at $1 (keys) and $2 (unknown lines).
STATUS = f"""
WITH status AS MATERIALIZED (
    SELECT s.line, s.key, c.id, {_STATUS} AS status
    FROM {CONTACTS} s LEFT JOIN contact c ON c.key = s.key
), channel AS MATERIALIZED (
    SELECT c.line, c.status, ch.id IS NULL AS added,
           ch.id IS NOT NULL AND {_CHANNEL_CHANGED} AS updated
    FROM {CHANNELS} i JOIN status c ON c.line = i.line
    LEFT JOIN contact_channel ch ON {_SAME_CHANNEL}
    WHERE c.status <> 'unknown'
), touched AS MATERIALIZED (
    SELECT DISTINCT line FROM channel WHERE status = 'same' AND (added OR updated)
)
SELECT (SELECT count(*) FILTER (WHERE status = 'added') FROM status),
       (SELECT count(*) FILTER (WHERE status = 'changed') FROM status),
       (SELECT count(*) FILTER (WHERE status = 'same') FROM status),
       (SELECT count(*) FILTER (WHERE status = 'unknown') FROM status),
       (SELECT count(*) FROM touched),
       (SELECT count(*) FILTER (WHERE added) FROM channel),
       (SELECT count(*) FILTER (WHERE updated) FROM channel),
       ARRAY(SELECT key FROM status WHERE status = 'added' ORDER BY line LIMIT $1),
       ARRAY(SELECT key FROM status
             WHERE status = 'changed' OR line IN (SELECT line FROM touched)
             ORDER BY line LIMIT $1),
       ARRAY(SELECT line FROM status WHERE status = 'unknown' ORDER BY line LIMIT $2),
       ARRAY(SELECT key FROM status WHERE status = 'unknown' ORDER BY line LIMIT $2)
"""  # noqa: S608 (our table names)
UPDATE_CONTACTS = (
    "UPDATE contact c SET "  # noqa: S608 (our table names)
    + ", ".join(f"{c} = s.{c}" for c in sql.RECORD_COLUMNS)
    + f", erased = false, updated_at = $1 FROM {CONTACTS} s"
    f" WHERE c.key = s.key AND s.describes AND {_CHANGED}"
)
_INSERT_NEW = (
    f"INSERT INTO contact ({', '.join(sql.CONTACT_COLUMNS)})"  # noqa: S608 (our table names)
    f" SELECT {', '.join(f's.{c}' for c in sql.RECORD_COLUMNS)},"
    f" s.key, $1::text, false, $2::timestamptz FROM {CONTACTS} s"
    " WHERE s.describes"
)
INSERT_CONTACTS = _INSERT_NEW + " AND NOT EXISTS (SELECT FROM contact c WHERE c.key = s.key)"
# A chunk of new contacts only (a first import): their channels go with them, no lookup.
INSERT_NEW = (
    f"WITH c AS ({_INSERT_NEW} RETURNING id, key)"  # noqa: S608 (our table names)
    " INSERT INTO contact_channel (contact_id, kind, address, verified, active, preference)"
    f" SELECT c.id, i.kind, i.address, i.verified, i.active, i.preference"
    f" FROM {CHANNELS} i JOIN c ON c.key = i.key"
)
UPDATE_CHANNELS = (
    "UPDATE contact_channel ch"  # noqa: S608 (our table names)
    " SET verified = i.verified, active = i.active, preference = i.preference"
    f" FROM {CHANNELS} i JOIN contact c ON c.key = i.key"
    f" WHERE {_SAME_CHANNEL} AND {_CHANNEL_CHANGED}"
)
INSERT_CHANNELS = (
    "INSERT INTO contact_channel"  # noqa: S608 (our table names)
    " (contact_id, kind, address, verified, active, preference)"
    " SELECT c.id, i.kind, i.address, i.verified, i.active, i.preference"
    f" FROM {CHANNELS} i JOIN contact c ON c.key = i.key"
    f" WHERE NOT EXISTS (SELECT FROM contact_channel ch WHERE {_SAME_CHANNEL})"
)


class Counts(NamedTuple):
    """What a staged chunk does (see `STATUS`)."""

    added: int
    changed: int
    same: int
    unknown: int
    touched: int
    channels_added: int
    channels_updated: int


class StagedApplier(Applier):
    """`Applier`'s counterpart for PostgreSQL imports: stages and diffs a chunk at a time.

    A chunk's rows are staged, counted and written by a task while the next chunk is read
    (the task's statements go out whenever the reading yields: every `YIELD_EVERY`
    records); memory holds the rows of two chunks at most.
    """

    def __init__(
        self, session: AsyncSession, *, report: ImportReport, source: str, now: datetime
    ) -> None:
        super().__init__(session, report=report, source=source, now=now)
        self.staged = False
        self.contacts: list[tuple[Any, ...]] = []
        self.channels: list[tuple[Any, ...]] = []
        self.task: asyncio.Task[None] | None = None
        self.jit: str | None = None
        """The connection's JIT setting before the import (restored at the end)."""

    async def add(self, record: ContactRecord) -> None:
        await super().add(record)
        if self.task is not None and len(self.batch) % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # the chunk's next statement goes out

    async def flush(self) -> None:
        batch, self.batch = self.batch, []
        for record in batch:
            self.contacts.append((record.line, record.key, *self._values(record)))
            self.channels.extend(
                (record.line, record.key, c.kind, c.address, c.verified, c.active, c.preference)
                for c in record.channels
            )
        if len(self.contacts) >= CHUNK:
            await self._chunk()

    @staticmethod
    def _values(record: ContactRecord) -> tuple[object, ...]:
        if not record.describes_contact:
            return (False, *_NO_CONTACT)
        return (True, *sql.record_row(record))

    async def _chunk(self) -> None:
        """The rows read since the last chunk handed to a task, once the last one is done."""
        await self.close()
        contacts, self.contacts = self.contacts, []
        channels, self.channels = self.channels, []
        self.task = asyncio.ensure_future(self._apply(contacts, channels))
        await asyncio.sleep(0)  # its first statement goes out

    async def _apply(
        self, contacts: list[tuple[Any, ...]], channels: list[tuple[Any, ...]]
    ) -> None:
        """Stage a chunk, count what it changes, and write it while the file may be written."""
        conn = await self.session.connection()
        if self.jit is None:
            self.jit = (await conn.exec_driver_sql(NO_JIT)).scalar_one()
        for statement in TRUNCATE if self.staged else CREATE:
            await conn.exec_driver_sql(statement)
        self.staged = True
        await copy_rows(conn, CONTACTS, CONTACT_COLUMNS, contacts)
        await copy_rows(conn, CHANNELS, CHANNEL_COLUMNS, channels)
        del contacts[:], channels[:]
        await conn.exec_driver_sql(ANALYZE)
        counts = await self._count()
        if self.writing:
            await self._write(counts)

    async def finish(self, *, seen: Container[int], departements: set[str]) -> None:
        """The last chunk, then the mayors who left office; the staging tables dropped."""
        await self.flush()
        if self.contacts:
            await self._chunk()
        await self.close()
        if departements and self.report.ok:
            await self.deactivate_missing_mayors(seen=seen, departements=departements)
        conn = await self.session.connection()
        if self.staged:
            await conn.exec_driver_sql(DROP)
            self.staged = False
        if self.jit is not None:
            await conn.exec_driver_sql(RESET_JIT, (self.jit,))
            self.jit = None

    async def close(self) -> None:
        """Wait for the chunk in hand (its error raised)."""
        task, self.task = self.task, None
        if task is not None:
            await task

    async def abandon(self) -> None:
        """The import failed: the connection waits for no statement (their errors dropped)."""
        with contextlib.suppress(Exception):
            await self.close()

    async def _count(self) -> Counts:
        """The report's counts, keys and unknown-key errors, from the staged chunk."""
        conn = await self.session.connection()
        (row,) = await fetch_all(conn, STATUS, [KEY_SAMPLE, MAX_ERRORS])
        counts = Counts(*row[:7])
        added_keys, updated_keys, unknown_lines, unknown_keys = row[7:]
        report = self.report
        report.added += counts.added
        report.updated += counts.changed + counts.touched
        report.unchanged += counts.same - counts.touched
        report.channels_added += counts.channels_added
        report.channels_updated += counts.channels_updated
        report.added_keys.extend(added_keys[: KEY_SAMPLE - len(report.added_keys)])
        report.updated_keys.extend(updated_keys[: KEY_SAMPLE - len(report.updated_keys)])
        for line, key in zip(unknown_lines, unknown_keys, strict=True):
            report.error(unknown_key(line, key))
        report.errors_total += counts.unknown - len(unknown_lines)
        return counts

    async def _write(self, counts: Counts) -> None:
        """The staged diff applied, skipping the statements that would change nothing."""
        conn = await self.session.connection()
        stamp = sql.Binder(conn, self.now).now
        if not counts.changed and not counts.same:
            await conn.exec_driver_sql(INSERT_NEW, (self.source, stamp))
            return
        if counts.changed:
            await conn.exec_driver_sql(UPDATE_CONTACTS, (stamp,))
        if counts.added:
            await conn.exec_driver_sql(INSERT_CONTACTS, (self.source, stamp))
        if counts.channels_updated:
            await conn.exec_driver_sql(UPDATE_CHANNELS)
        if counts.channels_added:
            await conn.exec_driver_sql(INSERT_CHANNELS)
