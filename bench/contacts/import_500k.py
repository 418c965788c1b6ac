"""Importing 500,000 rows in Tocsin's CSV: `python -m bench.contacts.import_500k [--pg URL]`.

The file is written first (streamed to disk), then imported in one transaction; the figures
are the import's wall time, the process' CPU time and peak RSS and, on a local PostgreSQL,
the CPU time of the server process of the import's connection (read in /proc): on a shared
machine, the CPU times are the fair comparison.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bench.contacts.common import run, scratch_database
from contacts import csvformat
from contacts.geography import Commune
from contacts.importer import ImportFormat, import_contacts

HEADER = ";".join(csvformat.HEADER) + "\n"


def write_file(path: Path, rows: int, codes: list[str]) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(rows):
            code = codes[n % len(codes)]
            out.write(
                f"bench:{n};personne;officials;conseiller_municipal;NOM{n};Prénom;;commune;{code};"
                f"01/07/2020;oui;email;p{n}@sandbox.tocsin.test;non;oui;0\n"
            )


async def server_process(session: AsyncSession) -> Path | None:
    """/proc's stat file of the PostgreSQL process serving `session`, if it runs here."""
    conn = await session.connection()
    if conn.dialect.name != "postgresql":
        return None
    pid = (await conn.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
    return Path(f"/proc/{pid}/stat")


def cpu_seconds(stat: Path | None) -> float | None:
    """User and system CPU time of a process, from its /proc stat file (if it runs here)."""
    if stat is None or not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(postgres: str | None, rows: int) -> None:
    async with scratch_database(postgres) as db:
        async with db.read() as session:
            codes = list((await session.exec(select(Commune.code))).all())
        path = Path(tempfile.mkdtemp()) / "contacts.csv"
        write_file(path, rows, codes)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for attempt in ("premier import", "ré-import identique"):
            start, start_cpu = time.perf_counter(), time.process_time()
            with path.open("rb") as stream:
                async with db.transaction() as session:
                    server = await server_process(session)
                    server_start = cpu_seconds(server)
                    report = await import_contacts(
                        session, stream=stream, fmt=ImportFormat.TOCSIN,
                        now=datetime.now(UTC),
                    )  # fmt: skip
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - start_cpu
            server_end = cpu_seconds(server)
            server_cpu = (
                f", du serveur {server_end - server_start:.1f} s"
                if server_start is not None and server_end is not None
                else ""
            )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            backend = "PostgreSQL" if postgres else "SQLite"
            print(
                f"{backend} {attempt}: {rows} lignes ({path.stat().st_size / 1e6:.0f} Mo) en "
                f"{elapsed:.1f} s (CPU du processus {cpu:.1f} s{server_cpu}) — "
                f"ajoutés {report.added}, "
                f"inchangés {report.unchanged}, "
                f"erreurs {report.errors_total} ; RSS max {peak / 1024:.0f} Mo "
                f"(avant import {before / 1024:.0f} Mo) ; charge "
                + " ".join(f"{x:.1f}" for x in os.getloadavg())
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default=None)
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    run(main(args.pg, args.rows))
