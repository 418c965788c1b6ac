"""All-or-nothing imports: stream the file, validate every line, apply the diff.

One pass over the file. On SQLite, records are looked up by key a batch at a time and
written with the driver's executemany of plain tuples (`contacts.applier`); the first bad
line stops the writing (validation goes on to name every bad line), and a savepoint rolls
back what was written. On PostgreSQL, chunks of records are copied into temporary tables
and diffed in SQL, in the same way (`contacts.import_pg`). Memory holds one batch (one
chunk on PostgreSQL) plus one small integer per key of the file (to find duplicates and the
mayors who left office).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import BinaryIO

from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import csvformat, rne
from contacts.applier import BATCH, Applier, ImportReport, erased_key
from contacts.csvsource import CsvSource
from contacts.geography import geo_index
from contacts.import_pg import StagedApplier
from contacts.records import ContactRecord, LineError
from storage.backend import larger_page_cache, on_postgres

IMPORT_CACHE_KIB = 65_536
__all__ = ["Applier", "ImportFormat", "ImportReport", "erased_key", "import_contacts"]


class ImportFormat(StrEnum):
    RNE_MAIRES = "rne-maires"
    TOCSIN = "tocsin"


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
    # With SQLite's default 2 MiB, a large import's index pages (key, search name, target,
    # channels) are read back from the OS at every batch; 64 MiB keeps them: the memory stays
    # bounded, and the first import of 500,000 rows no longer slows down as it grows.
    async with larger_page_cache(await session.connection(), kib=IMPORT_CACHE_KIB):
        return await _import(session, stream, fmt, now, dry_run, progress)


async def _import(
    session: AsyncSession,
    stream: BinaryIO | Iterable[bytes],
    fmt: ImportFormat,
    now: datetime,
    dry_run: bool,
    progress: Callable[[int], None] | None,
) -> ImportReport:
    report = ImportReport(format=fmt.value, dry_run=dry_run)
    geo = await geo_index(session)
    source = CsvSource(stream)
    conn = await session.connection()
    applier = (StagedApplier if on_postgres(conn) else Applier)(
        session, report=report, source="rne" if fmt == "rne-maires" else "tocsin", now=now
    )
    await applier.load_tombstones()
    savepoint = None if dry_run else await session.begin_nested()
    parser = (
        rne.parse(source, geo) if fmt == ImportFormat.RNE_MAIRES else csvformat.parse(source, geo)
    )
    try:
        await _apply(parser, source, applier, fmt, progress)
    except BaseException:
        await applier.abandon()
        raise
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


async def _apply(
    parser: Iterator[ContactRecord | LineError],
    source: CsvSource,
    applier: Applier,
    fmt: ImportFormat,
    progress: Callable[[int], None] | None,
) -> None:
    """Every record of the file to the applier; every problem to its report."""
    report = applier.report
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
    await applier.finish(seen=seen_keys.keys(), departements=departements)
