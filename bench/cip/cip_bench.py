"""The CIP console's two speed targets (issue 20).

    .venv/bin/python -m bench.cip.cip_bench [--postgres postgresql://…] [--entries 500]
        [--operators 20] [--calls 25]

1. FAQ search: `--entries` approved entries in one crisis; each query typed in the console is
   answered as `GET …/cip/faq?q=` answers it (`faq.listing` then `faq.search`, in one read
   transaction): median and 95th percentile over the queries. Target: < 50 ms.
2. Saving a call: `--operators` operators in post each log `--calls` calls at once through the
   API (`POST …/cip/calls`, the FastAPI app over ASGI with bearer tokens, idempotency and the
   journal included): latency of each request, median and 95th percentile. Target: p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from bench.databases import throwaway
from crisis import accounts
from crisis.actors import SYSTEM, Actor, Role
from crisis.app import bootstrap
from crisis.app.clock import SystemClock
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.cell import crises
from crisis.cip import faq, ordering
from crisis.cip.rules import CipRules
from crisis.vocabulary import CrisisMode

QUERIES = ["école", "ECOLE abbeville", "eau potable", "route coupée d901", "hébergement", "zz"]
COMMUNICATOR = Actor(2, "com", frozenset({Role.COMMUNICATOR}))
VALIDATOR = Actor(3, "valideur", frozenset({Role.VALIDATOR}))


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"médiane {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms"
    )


async def _crisis(db: Database, now: datetime, entries: int) -> int:
    async with db.transaction() as session:
        crisis = await crises.declare(
            session, actor=SYSTEM, title="Crue (banc CIP)", kind="crue",
            mode=CrisisMode.REAL, communes=["80001", "80021"], now=now,
        )  # fmt: skip
        assert crisis.id is not None
        await ordering.order(
            session, actor=SYSTEM, crisis_id=crisis.id, number="0800100200", decided_by=None,
            expected_opening_at=None, rules=CipRules(), now=now,
        )  # fmt: skip
        for n in range(entries):
            entry = await faq.write(
                session, actor=COMMUNICATOR, crisis_id=crisis.id,
                question=f"Question {n} : les écoles et la route {n % 37} à Abbeville ?",
                answer=f"Réponse validée n° {n} : eau potable, hébergement au gymnase {n % 11}.",
                source_bulletin_id=None, communes=["80001"] if n % 3 else [], now=now,
            )  # fmt: skip
            assert entry.id is not None
            await faq.approve(
                session, actor=VALIDATOR, crisis_id=crisis.id, entry_id=entry.id, now=now
            )
        return crisis.id


async def _search(db: Database, crisis_id: int) -> tuple[list[float], list[float]]:
    """(elapsed, process CPU) of each query, in ms: on a loaded machine the CPU time is what
    compares honestly (the elapsed time is mostly the wait for a core)."""
    times, cpu = [], []
    for _ in range(10):
        for query in QUERIES:
            started, started_cpu = time.perf_counter(), time.process_time()
            async with db.read() as session:
                items = await faq.listing(session, crisis_id=crisis_id)
            faq.search(items, query)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    return times, cpu


async def _operators(db: Database, count: int, now: datetime) -> list[str]:
    tokens = []
    async with db.transaction() as session:
        for n in range(count):
            user, _ = await accounts.create_user(
                session, actor=SYSTEM, login=f"op{n}", roles=["operator"], now=now,
                one_time=False,
            )  # fmt: skip
            tokens.append(await accounts.issue_token(session, actor=SYSTEM, user=user, now=now))
    return tokens


async def _save_calls(
    db: Database, url: str, crisis_id: int, operators: int, calls: int
) -> list[float]:
    settings = Settings(
        database_url=url, secret_key=SecretStr("bench"), scheduler_enabled=False, json_logs=False
    )
    app = create_app(settings, clock=SystemClock(), database=db)
    now = datetime.now(UTC)
    tokens = await _operators(db, operators, now)
    base = f"/api/v1/crises/{crisis_id}/cip"
    times: list[float] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        for n, token in enumerate(tokens):
            role = "head" if n == 0 else "operator"
            headers = {"Authorization": f"Bearer {token}"}
            answer = await http.post(f"{base}/operators", json={"role": role}, headers=headers)
            answer.raise_for_status()

        async def operator(token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            for n in range(calls):
                received = datetime.now(UTC) - timedelta(minutes=2)
                body = {
                    "received_at": received.isoformat(),
                    "answered_at": (received + timedelta(seconds=30)).isoformat(),
                    "commune": "80001",
                    "topic": "schools",
                    "question": f"Les écoles sont-elles ouvertes ? ({n})",
                    "answer": "Fermées jusqu'à lundi.",
                }
                started = time.perf_counter()
                answer = await http.post(f"{base}/calls", json=body, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 201, answer.text

        await asyncio.gather(*(operator(t) for t in tokens))
    return times


async def main(postgres: str | None, entries: int, operators: int, calls: int) -> None:
    async with throwaway(postgres, name="cip") as (db, url):
        await bootstrap.prepare(db, url)
        now = datetime.now(UTC) - timedelta(hours=1)
        crisis_id = await _crisis(db, now, entries)
        searched, cpu = await _search(db, crisis_id)
        print(f"{db.dialect} · recherche dans {entries} réponses : {_ms(searched[6:])}")
        print(f"{db.dialect} · … temps CPU du processus : {_ms(cpu[6:])}")
        started, started_cpu = time.perf_counter(), time.process_time()
        saved = await _save_calls(db, url, crisis_id, operators, calls)
        elapsed, used = time.perf_counter() - started, time.process_time() - started_cpu
        print(f"{db.dialect} · {operators} opérateurs × {calls} appels : {_ms(saved)}")
        print(
            f"{db.dialect} · … {len(saved) / elapsed:.0f} appels/s, "
            f"CPU du processus {used * 1000 / len(saved):.1f} ms par appel"
        )
        print(f"charge : {os.getloadavg()[0]:.1f}")
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres")
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--operators", type=int, default=20)
    parser.add_argument("--calls", type=int, default=25)
    args = parser.parse_args()
    asyncio.run(main(args.postgres, args.entries, args.operators, args.calls))
