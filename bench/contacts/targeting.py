"""Targeting a whole département of ~10,000 people.

python -m bench.contacts.targeting [--pg URL]

The before/after comparison of docs/benchmarks.md ran the version of commit 7d859a3
(`git show 7d859a3:contacts/targeting.py`) alternately with this one in one process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import select

from bench.contacts.common import run, scratch_database
from contacts.demo import load_demo_directory
from contacts.geography import Commune
from contacts.importer import Applier, ImportReport
from contacts.records import ChannelRecord, ContactRecord
from contacts.targeting import Targeting, target

NOW = datetime(2026, 11, 28, 14, tzinfo=UTC)


async def main(postgres: str | None, people: int) -> None:
    async with scratch_database(postgres) as db:
        async with db.transaction() as session:
            demo = await load_demo_directory(session, now=NOW)
            codes = list((await session.exec(select(Commune.code))).all())
            applier = Applier(session, report=ImportReport("bench", False), source="bench", now=NOW)
            for n in range(people - demo.contacts):
                code = codes[n % len(codes)]
                await applier.add(
                    ContactRecord(
                        key=f"bench:{n}", line=n, audience="officials",
                        function="conseiller_municipal", last_name=f"Nom{n}",
                        first_name="Prénom", area_level="commune", area_code=code,
                        departement="80", active=True,
                        channels=(
                            ChannelRecord("sms", f"+3363998{n % 10000:04d}", True, True, 0),
                            ChannelRecord("email", f"p{n}@sandbox.tocsin.test", False, True, 1),
                        ),
                    )
                )  # fmt: skip
            await applier.flush()
        if postgres:
            async with db.engine.connect() as conn:
                await conn.execute(sa.text("ANALYZE"))  # what autovacuum does after a bulk load
        versions = {"": target}
        timings: dict[str, list[float]] = {name: [] for name in versions}
        cpu: dict[str, list[float]] = {name: [] for name in versions}
        results: dict[str, object] = {}
        for _ in range(12):
            for name, function in versions.items():
                async with db.read() as session:
                    await session.connection()
                    start, start_cpu = time.perf_counter(), time.process_time()
                    result = await function(
                        session, communes=codes, audiences=["officials", "media", "staff"],
                        exercise=False,
                    )  # fmt: skip
                    timings[name].append(time.perf_counter() - start)
                    cpu[name].append(time.process_time() - start_cpu)
                    results[name] = result
        backend = "PostgreSQL" if postgres else "SQLite"
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        for name in versions:
            assert isinstance(result, Targeting)
            print(
                f"{backend} {name}: {len(codes)} communes, {len(result.recipients)} "
                f"destinataires + {len(result.to_call)} à appeler ; "
                f"médiane {statistics.median(timings[name][2:]) * 1000:.0f} ms, "
                f"min {min(timings[name][2:]) * 1000:.0f} ms, "
                f"max {max(timings[name][2:]) * 1000:.0f} ms, "
                f"CPU du processus médiane {statistics.median(cpu[name][2:]) * 1000:.0f} ms "
                f"(hors 2 premiers ; charge {load})"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default=None, help="postgresql://postgres@127.0.0.1/postgres")
    parser.add_argument("--people", type=int, default=10_000)
    args = parser.parse_args()
    run(main(args.pg, args.people))
