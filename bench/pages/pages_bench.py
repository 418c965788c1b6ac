"""One user, three pages, a crisis of 100,000 deliveries: p50/p95/max per page.

    .venv/bin/python -m bench.pages.pages_bench [--deliveries 100000] [--requests 30]
        [--postgres SERVER_URL]

SQLite runs on a throwaway file; `--postgres postgresql://postgres@127.0.0.1/postgres` creates a
throwaway database on that server (analysed after seeding, as autovacuum would have done) and
drops it afterwards. The crisis is declared, its COD activated and one bulletin published through
the services; then the deliveries are written straight into the table (bulk insert): officials
and media (two or three deliveries per person, a few people never reached) and the public
channels, in every status. The pages are then asked through the application as a browser
would (HTTP request → routes → services → database, in process), by one logged-in user, one
request at a time: the dashboard, the crisis page and the tracking page of the bulletin.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from bench.databases import served_settings, throwaway
from crisis.app import bootstrap
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.web import shared_pages
from crisis.cell import coverage, crises
from crisis.dispatch import tallies
from crisis.dispatch.outbox import Delivery, OutboxMessage
from tests.crisis import bulletin_support as support
from tests.crisis.app.web_session import log_in
from tests.crisis.lifecycle_support import cod_crisis
from tests.support import FrozenClock, make_user

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
# (status, share): what a fan-out in progress looks like, every status present.
STATUSES = (
    ("sent", 0.80),
    ("confirmed", 0.05),
    ("failed", 0.04),
    ("to_call", 0.02),
    ("pending", 0.05),
    ("retrying", 0.02),
    ("cancelled", 0.02),
)
CHANNELS = ("email", "sms", "telegram")
PUBLIC_CHANNELS = ("x", "mastodon", "telegram", "public_page")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} / {five:.2f}"


def _status(rng: random.Random) -> str:
    draw, upto = rng.random(), 0.0
    for status, share in STATUSES:
        upto += share
        if draw < upto:
            return status
    return "sent"


def _rows(
    count: int, *, crisis_id: int, bulletin_id: int, messages: dict[str, int]
) -> list[dict[str, Any]]:
    """`count` deliveries: 75 % officials, 24.9 % media, the rest public channels."""
    rng = random.Random(48)
    rows: list[dict[str, Any]] = []
    for n in range(count):
        share = n / count
        if share < 0.999:
            audience = "officials" if share < 0.75 else "media"
            contact = 1_000_000 + n // 3 if audience == "officials" else 2_000_000 + n // 2
            channel = CHANNELS[n % len(CHANNELS)]
            name = f"{'ÉLU' if audience == 'officials' else 'RÉDACTION'} {contact}"
        else:
            audience, contact, name = "public", None, ""
            channel = PUBLIC_CHANNELS[n % len(PUBLIC_CHANNELS)]
        status = _status(rng)
        created = T0 + timedelta(minutes=10)
        sent = created + timedelta(seconds=rng.randrange(1, 1200))
        rows.append(
            {
                "message_id": messages.get(channel, next(iter(messages.values()))),
                "crisis_id": crisis_id,
                "bulletin_id": bulletin_id,
                "purpose": "bulletin",
                "audience": audience,
                "played_audience": None,
                "contact_id": contact,
                "recipient_name": name,
                "channel": "phone" if status == "to_call" else channel,
                "address": f"bench-{n}@bench.test",
                "status": status,
                "attempts": 1,
                "next_attempt_at": created if status in ("pending", "retrying") else None,
                "idempotency_key": uuid.uuid4().hex,
                "sent_at": sent if status in ("sent", "confirmed") else None,
                "confirmed_at": sent + timedelta(minutes=3) if status == "confirmed" else None,
                "confirm_method": "link" if status == "confirmed" else None,
                "cascade_rank": 0,
                "created_at": created,
            }
        )
    return rows


async def seed(db: Database, clock: FrozenClock, deliveries: int) -> tuple[int, int]:
    """A crisis with its COD activated, one bulletin published, `deliveries` more rows."""
    async with db.transaction() as session:
        crisis_id = await cod_crisis(session, now=T0)
    await support.load_directory(db, T0)
    bulletin_id = await support.published(db, T0 + timedelta(minutes=5), crisis_id=crisis_id)
    async with db.transaction() as session:
        conn = await session.connection()
        m = OutboxMessage.__table__.c  # type: ignore[attr-defined]
        found = await conn.execute(sa.select(m.channel, m.id).where(m.bulletin_id == bulletin_id))
        messages = {channel: id_ for channel, id_ in found.tuples()}
        rows = _rows(deliveries, crisis_id=crisis_id, bulletin_id=bulletin_id, messages=messages)
        for start in range(0, len(rows), 5000):
            await conn.execute(sa.insert(Delivery), rows[start : start + 5000])
    async with db.transaction() as session:
        # What the clock tick does for a crisis whose figures are not kept yet (and the
        # migration for those older than the tables): ES48's people and tallies computed once
        # from the deliveries written straight into the table above.
        crisis = await crises.get(session, crisis_id=crisis_id)
        assert crisis.cod_activated_at is not None
        await coverage.keep(
            session, crisis_id=crisis_id, since=crisis.cod_activated_at, exercise=False
        )
        # What the leader's tick does on PostgreSQL every few seconds: the tracking counters'
        # deltas folded (the bulk insert above wrote one per row, one statement per row).
        while await tallies.compact(await session.connection()):
            pass
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE"))
            await conn.commit()
    return crisis_id, bulletin_id


async def _time(
    http: httpx.AsyncClient, clock: FrozenClock, path: str, requests: int
) -> tuple[list[float], float]:
    """Wall times (sorted) and the median processor time of this process per request (on a
    shared machine, the figure the load of others does not stretch; PostgreSQL's own work is
    not in it). The clock moves on past the pages' sharing (`shared_pages.STALE_FOR`, the age
    past which no copy is served) before each request: each one renders its page, as for a user
    alone, and leaves no rendering under way behind it."""
    for _ in range(2):  # warm-up: templates compiled, caches filled
        answer = await http.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
    spent, cpu = [], []
    for _ in range(requests):
        clock.advance(seconds=shared_pages.STALE_FOR + shared_pages.MAX_AGE)
        start, processor = time.perf_counter(), time.process_time()
        answer = await http.get(path)
        spent.append(time.perf_counter() - start)
        cpu.append(time.process_time() - processor)
        assert answer.status_code == 200, (path, answer.status_code)
    return sorted(spent), statistics.median(cpu)


def _p95(values: list[float]) -> float:
    return values[max(0, round(len(values) * 0.95) - 1)]


async def bench(
    *, deliveries: int, requests: int, postgres: str | None = None
) -> dict[str, dict[str, float]]:
    """Seconds per page: p50, p95, max, processor (and the figures printed)."""
    async with throwaway(postgres, name="pages") as (db, url):
        await bootstrap.prepare(db, url)
        clock = FrozenClock(T0 + timedelta(minutes=40))
        started = time.perf_counter()
        crisis_id, bulletin_id = await seed(db, clock, deliveries)
        seeded = time.perf_counter() - started
        print(f"seeded {deliveries} deliveries ({db.dialect}) in {seeded:.1f} s")
        user = await make_user(db, clock, "bench", "prefect", "communicator", "validator")
        settings = served_settings(url)
        app = create_app(settings, clock=clock, database=db)
        pages = {
            "dashboard": "/",
            "crisis page": f"/evenements/{crisis_id}",
            "tracking page": f"/communiques/{bulletin_id}/suivi",
        }
        results: dict[str, dict[str, float]] = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
            await log_in(http, user.login, user.password)
            for name, path in pages.items():
                spent, cpu = await _time(http, clock, path, requests)
                results[name] = {
                    "p50": statistics.median(spent),
                    "p95": _p95(spent),
                    "max": spent[-1],
                    "cpu": cpu,
                }
                figures = "  ".join(f"{k} {v * 1000:7.1f} ms" for k, v in results[name].items())
                print(f"  {name:14} {figures}  ({requests} requests, {_load()})")
        await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--postgres", help="server URL; a throwaway database is made there")
    args = parser.parse_args()
    asyncio.run(bench(deliveries=args.deliveries, requests=args.requests, postgres=args.postgres))


if __name__ == "__main__":
    main()
