"""The CIP console's two speed targets (issue 20).

    .venv/bin/python -m bench.cip.cip_bench [--postgres postgresql://…] [--entries 500]
        [--operators 20] [--calls 25] [--pace 5] [--served N]

1. FAQ search: `--entries` approved entries in one crisis; each query typed in the console is
   answered as `GET …/cip/faq?q=` answers it (`faq.listing` then `faq.search`, in one read
   transaction): median and 95th percentile over the queries. Target: < 50 ms.
2. Saving a call: `--operators` operators in post each log `--calls` calls at once through the
   API (`POST …/cip/calls`, the FastAPI app over ASGI with bearer tokens, idempotency and the
   journal included): latency of each request, median and 95th percentile. Target: p95 < 100 ms.
   Three ways: closed loop (each operator's next call the moment the last is saved: the worst
   case, a sustained load no room of people makes), in bursts (all operators save at the same
   instant, once a second: « 20 operators logging at once » taken literally), then at a human
   pace (a call every `--pace` seconds per operator on average, already far faster than calls
   lasting minutes). The accounts and check-ins are made before the clock starts.

By default the app runs in the bench's process over ASGI (httpx, the client's CPU shares the
process). With `--served N` the saves go over TCP to a real `tocsin serve --web-only
--web-processes N` (N > 1: PostgreSQL only), as a prefecture runs it, each operator on its own
keep-alive connection with a minimal client (`bench.browser_lane`: the operators' browsers are
on their own PCs, not on the server's cores); the CPU figures are then the client's and the
server's (its processes, database threads included; PostgreSQL's own backends are not).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from bench.browser_lane import Lane
from bench.databases import throwaway
from bench.served import command_cpu_seconds, free_port, group_cpu_seconds, wait_ready
from crisis import accounts, api_tokens
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
            tokens.append(await api_tokens.issue_token(session, actor=SYSTEM, user=user, now=now))
    return tokens


def _call(n: int) -> dict[str, str]:
    received = datetime.now(UTC) - timedelta(minutes=2)
    return {
        "received_at": received.isoformat(),
        "answered_at": (received + timedelta(seconds=30)).isoformat(),
        "commune": "80001",
        "topic": "schools",
        "question": f"Les écoles sont-elles ouvertes ? ({n})",
        "answer": "Fermées jusqu'à lundi.",
    }


@dataclass
class Console:
    """The app and the bearer tokens of operators in post (set up untimed: creating an account
    hashes its password, ≈ 0.1 s of CPU each). Over ASGI the saves go through httpx; served,
    each operator saves on its own keep-alive connection (`bench.browser_lane`), as 20 browsers
    on 20 PCs would, without taking the server's cores."""

    http: httpx.AsyncClient
    base: str
    tokens: list[str]
    lanes: dict[str, Lane] = field(default_factory=dict)
    server_group: int | None = None

    def server_cpu(self) -> float:
        """CPU seconds the served server has used so far (0 over ASGI: counted with the
        bench's own)."""
        return group_cpu_seconds(self.server_group) if self.server_group else 0.0

    async def save(self, token: str, n: int) -> float:
        """One call saved; its latency in ms."""
        lane = self.lanes.get(token)
        started = time.perf_counter()
        if lane is None:
            headers = {"Authorization": f"Bearer {token}"}
            answer = await self.http.post(f"{self.base}/calls", json=_call(n), headers=headers)
            status, text = answer.status_code, answer.text
        else:
            status, body = await lane.post_json(f"{self.base}/calls", _call(n), token=token)
            text = body.decode()
        elapsed = (time.perf_counter() - started) * 1000
        assert status == 201, text
        return elapsed


@contextmanager
def _served(url: str, processes: int) -> Iterator[tuple[str, int]]:
    """A real `tocsin serve --web-only` on loopback: (base URL once /readyz answers, its process
    group)."""
    port = free_port()
    args = [sys.executable, "-m", "crisis", "serve", "--web-only", "--db", url]
    args += ["--port", str(port), "--web-processes", str(processes)]
    env = os.environ | {"TOCSIN_SECRET_KEY": "bench", "TOCSIN_SCHEDULER_ENABLED": "false"}
    server = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server, limit_s=120, log="(sortie écartée)")
        yield base, server.pid
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@asynccontextmanager
async def _client(
    db: Database, url: str, served: int
) -> AsyncIterator[tuple[httpx.AsyncClient, int | None]]:
    """The app in this process over ASGI, or (`served` > 0) a real server over TCP and its
    process group."""
    if served:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        with _served(url, served) as (base, group):
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
                yield http, group
        return
    settings = Settings(
        database_url=url, secret_key=SecretStr("bench"), scheduler_enabled=False, json_logs=False
    )
    app = create_app(settings, clock=SystemClock(), database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        yield http, None


@asynccontextmanager
async def _console(
    db: Database, url: str, crisis_id: int, operators: int, served: int
) -> AsyncIterator[Console]:
    tokens = await _operators(db, operators, datetime.now(UTC))
    base = f"/api/v1/crises/{crisis_id}/cip"
    async with _client(db, url, served) as (http, group):
        for n, token in enumerate(tokens):
            role = "head" if n == 0 else "operator"
            headers = {"Authorization": f"Bearer {token}"}
            answer = await http.post(f"{base}/operators", json={"role": role}, headers=headers)
            answer.raise_for_status()
        lanes = {t: await Lane.open(str(http.base_url)) for t in tokens} if served else {}
        try:
            yield Console(http, base, tokens, lanes, group)
        finally:
            for lane in lanes.values():
                await lane.close()


async def _closed_loop(console: Console, calls: int) -> list[float]:
    """Worst case: every operator saves its next call the moment the last one is saved."""
    times: list[float] = []

    async def operator(token: str) -> None:
        for n in range(calls):
            times.append(await console.save(token, n))

    await asyncio.gather(*(operator(t) for t in console.tokens))
    return times


async def _bursts(console: Console, calls: int, gap: float) -> list[float]:
    """The words of the target taken literally: all operators press « Enregistrer » at the same
    instant, `calls` times, `gap` seconds apart (each burst is 20 simultaneous requests)."""
    times: list[float] = []
    for n in range(calls):
        times += await asyncio.gather(*(console.save(token, n) for token in console.tokens))
        await asyncio.sleep(gap)
    return times


async def _paced(console: Console, calls: int, pace: float) -> list[float]:
    """Operators at a human pace: each saves a call every `pace` seconds on average (random,
    exponential gaps), starting at random moments; a real call lasts minutes."""
    times: list[float] = []
    draw = random.Random(20)

    async def operator(token: str) -> None:
        await asyncio.sleep(draw.uniform(0, pace))
        for n in range(calls):
            times.append(await console.save(token, n))
            await asyncio.sleep(draw.expovariate(1 / pace))

    await asyncio.gather(*(operator(t) for t in console.tokens))
    return times


@dataclass(frozen=True)
class Timed:
    saved: list[float]
    elapsed: float
    client_cpu: float
    server_cpu: float
    database_cpu: float


async def _timed(console: Console, run: Awaitable[list[float]]) -> Timed:
    started, client, server = time.perf_counter(), time.process_time(), console.server_cpu()
    database = command_cpu_seconds("postgres")
    saved = await run
    return Timed(
        saved,
        time.perf_counter() - started,
        time.process_time() - client,
        console.server_cpu() - server,
        command_cpu_seconds("postgres") - database,
    )


def _report(dialect: str, title: str, timed: Timed, *, served: int) -> None:
    per_call = 1000 / len(timed.saved)
    print(f"{dialect} · {title} : {_ms(timed.saved)}")
    if served:
        cpu = (
            f"CPU par appel : client {timed.client_cpu * per_call:.2f} ms, serveur "
            f"({served} processus web) {timed.server_cpu * per_call:.2f} ms"
        )
        if dialect == "postgresql":
            cpu += f", PostgreSQL {timed.database_cpu * per_call:.2f} ms"
    else:
        cpu = f"CPU du processus {timed.client_cpu * per_call:.1f} ms par appel (client compris)"
    print(
        f"{dialect} · … {len(timed.saved) / timed.elapsed:.0f} appels/s, {cpu}, "
        f"charge {os.getloadavg()[0]:.1f}"
    )


async def main(
    postgres: str | None, entries: int, operators: int, calls: int, pace: float, served: int
) -> None:
    async with throwaway(postgres, name="cip") as (db, url):
        await bootstrap.prepare(db, url)
        now = datetime.now(UTC) - timedelta(hours=1)
        crisis_id = await _crisis(db, now, entries)
        searched, cpu = await _search(db, crisis_id)
        print(f"{db.dialect} · recherche dans {entries} réponses : {_ms(searched[6:])}")
        print(f"{db.dialect} · … temps CPU du processus : {_ms(cpu[6:])}")
        async with _console(db, url, crisis_id, operators, served) as console:
            title = f"{operators} opérateurs × {calls} appels sans pause"
            saved = await _timed(console, _closed_loop(console, calls))
            _report(db.dialect, title, saved, served=served)
            title = f"{operators} opérateurs enregistrant au même instant, {calls} fois"
            saved = await _timed(console, _bursts(console, calls, 1.0))
            _report(db.dialect, title, saved, served=served)
            if pace > 0:
                title = f"{operators} opérateurs, un appel toutes les {pace:g} s en moyenne"
                saved = await _timed(console, _paced(console, calls, pace))
                _report(db.dialect, title, saved, served=served)
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres")
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--operators", type=int, default=20)
    parser.add_argument("--calls", type=int, default=25)
    parser.add_argument("--pace", type=float, default=5.0, help="0: no paced run")
    parser.add_argument("--served", type=int, default=0, help="web processes of a real server")
    args = parser.parse_args()
    run = main(args.postgres, args.entries, args.operators, args.calls, args.pace, args.served)
    asyncio.run(run)
