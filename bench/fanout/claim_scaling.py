"""Cost of one claim as the outbox grows: the claim statement vs the former sorted SELECT.

    .venv/bin/python -m bench.fanout.claim_scaling [--db sqlite|postgresql] [--sizes 10000 100000]

For each size, N due deliveries are enqueued, then 20 claims of 200 are timed (median), and
the former query (``status IN (…) ORDER BY next_attempt_at, id LIMIT 200``, which sorted
every due row on each claim) is timed on the same rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench.fanout.fanout_bench import _database

FORMER = (
    "SELECT id FROM delivery WHERE status IN (:a, :b) AND next_attempt_at <= :now"
    " ORDER BY next_attempt_at, id LIMIT 200"
)


async def _measure(url: str, n: int) -> dict[str, Any]:
    from crisis.app import bootstrap
    from crisis.app.db import Database
    from crisis.dispatch import outbox, store
    from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering

    db = Database.from_url(url)
    await bootstrap.prepare(db, url)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        await outbox.enqueue(
            session,
            purpose=Purpose.BULLETIN,
            renderings=[Rendering(channel="email", subject="Crue", text="Évacuation")],
            requests=[
                DeliveryRequest(channel="email", address=f"maire{i}@x.fr", audience="officials")
                for i in range(n)
            ],
            now=now,
            exercise=False,
        )
    former, claims = [], []
    for _ in range(20):
        async with db.transaction() as session:
            connection = await session.connection()
            start = time.perf_counter()
            await connection.execute(
                sa.text(FORMER).bindparams(
                    sa.bindparam("now", now + timedelta(seconds=1), type_=sa.DateTime(True))
                ),
                {"a": "pending", "b": "retrying"},
            )
            former.append(time.perf_counter() - start)
        async with db.transaction() as session:
            start = time.perf_counter()
            await store.claim(
                session, now=now + timedelta(seconds=1), limit=200, lease=timedelta(minutes=5)
            )
            claims.append(time.perf_counter() - start)
    await db.dispose()
    return {
        "deliveries": n,
        "former_select_ms": round(statistics.median(former) * 1000, 2),
        "claim_ms": round(statistics.median(claims) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    for n in args.sizes:
        url, drop = _database(args.db)
        try:
            print(json.dumps({"db": args.db, **asyncio.run(_measure(url, n))}))
        finally:
            if drop is not None:
                drop()


if __name__ == "__main__":
    main()
