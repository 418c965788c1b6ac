"""Importing 500,000 rows in Tocsin's CSV: `python -m bench.contacts.import_500k [--pg URL]`.

The file is written first (streamed to disk), then imported in one transaction; the figures
are the import's wall time and the process' peak RSS.
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
                    report = await import_contacts(
                        session, stream=stream, fmt=ImportFormat.TOCSIN,
                        now=datetime.now(UTC),
                    )  # fmt: skip
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - start_cpu
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            backend = "PostgreSQL" if postgres else "SQLite"
            print(
                f"{backend} {attempt}: {rows} lignes ({path.stat().st_size / 1e6:.0f} Mo) en "
                f"{elapsed:.1f} s (CPU du processus {cpu:.1f} s) — ajoutés {report.added}, "
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
