"""`--everything` (issue 22, point 5): beside the watchers and the fan-out, a drill running,
the CIP's operators logging calls, the public pages under a flood and, on PostgreSQL with two
instances, one instance SIGKILLed mid-fan-out.

- Drill: the trainer plans a `crisis` drill (playbook `crue`, the fan-out's communes), takes
  its playbook's scenario and launches it through the API, as a trainer would; it runs (its
  injects, its pages to the exercise participants) through the load.
- CIP: the prefect orders it, `--operators` operators check in (the first as head), the head
  opens it; each operator then logs a call every 3 to 8 s (a call answered, written up, saved)
  and, when the bulletin is published, a burst of `BURST` calls back to back. Each save carries
  an `Idempotency-Key`: a save retried on the other instance after a connection error is not
  logged twice.
- Public pages: `hey` (Go, its own process) at a constant `--public-rate` requests/s over the
  public page of the first bulletin, the list and the Atom feed (one third each); before it,
  `wrk` measures the raw limit of the same server on `/healthz` under the same load.
- Kill: a second `tocsin serve --demo` on the same database (its own web, worker and sandbox);
  half the clients use it. Once `--kill-at` of the fan-out has settled, its whole process group
  gets SIGKILL; clients switch to the survivor on a connection error and send a cut GET again
  there (what a load balancer does; with `--front nginx`, nginx itself does it). Fail-over:
  until the survivor puts back the dead one's claims (`released_at`), and until a live
  instance holds the scheduler lease.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import random
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.load import report
from crisis.app.db import Database

BURST = 5
CIP_NUMBER = "0800100200"
HEY_WORKER_RATE = 10
"""Requests/s of each `hey` connection. A connection waits for each answer before it sends the
next, so it keeps pace only while answers take under 1/rate s: at 40 connections of 50 req/s,
a 25 ms answer capped the flood at 1,600 req/s whatever the server could do. At 10 req/s,
answers may take up to 100 ms (the public arrives from thousands of phones, not 40)."""
TOPICS = ("schools", "roads", "water", "shelter")
_HEY_LATENCY = re.compile(r"^\s+(\d+)%+ in ([\d.]+) secs", re.M)
_HEY_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")


@dataclass
class Hosts:
    """The instances clients use, and the ones known dead (a client moves off on error)."""

    urls: list[str]
    dead: set[str] = field(default_factory=set)

    def pick(self, n: int) -> str:
        alive = [u for u in self.urls if u not in self.dead] or self.urls
        return alive[n % len(alive)]


# -- the drill --------------------------------------------------------------------------------


async def launch_drill(
    client: httpx.AsyncClient, communes: list[str], participants: list[int]
) -> dict[str, Any]:
    """Plan a crisis drill with its playbook's scenario and launch it now; seconds of the
    launch call, and the run."""
    body = {
        "title": "Exercice crue pendant la charge",
        "kind": "crisis",
        "playbook": "crue",
        "communes": communes,
        "participants": participants,
        "starts_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    }
    planned = await _ok(await client.post("/exercises", json=body))
    drill_id = int(planned["id"])
    await _ok(await client.post(f"/exercises/{drill_id}/injects/scenario"))
    started = time.perf_counter()
    launched = await _ok(await client.post(f"/exercises/{drill_id}/launch"))
    return {
        "drill_id": drill_id,
        "run_id": launched["run_id"],
        "crisis_id": launched["crisis_id"],
        "launch_s": time.perf_counter() - started,
    }


async def _ok(answer: httpx.Response) -> Any:
    if answer.status_code >= 400:
        raise RuntimeError(
            f"{answer.request.method} {answer.url} → {answer.status_code} {answer.text}"
        )
    return answer.json() if answer.content else None


# -- the CIP ----------------------------------------------------------------------------------


@dataclass
class CipDesk:
    """The operators of one crisis' CIP, each through its own token, on the hosts in turn."""

    hosts: Hosts
    crisis_id: int
    tokens: list[str]
    samples: list[report.Sample] = field(default_factory=list)
    retried: int = 0
    burst: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def open(self, prefect: httpx.AsyncClient) -> None:
        """Ordered by the prefect, every operator checked in, opened by the head."""
        cip = f"/crises/{self.crisis_id}/cip"
        await _ok(await prefect.post(cip, json={"number": CIP_NUMBER}))
        for n, token in enumerate(self.tokens):
            async with self._client(token, 0) as http:
                role = "head" if n == 0 else "operator"
                await _ok(await http.post(f"{cip}/operators", json={"role": role}))
        async with self._client(self.tokens[0], 0) as http:
            await _ok(await http.post(f"{cip}/open"))

    def _client(self, token: str, n: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"{self.hosts.pick(n)}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )

    async def run(self) -> None:
        await asyncio.gather(*(self._operator(n, t) for n, t in enumerate(self.tokens)))

    async def _operator(self, n: int, token: str) -> None:
        rng = random.Random(n)
        burst_done = False
        while not self.stop.is_set():
            if self.burst.is_set() and not burst_done:
                burst_done = True
                for _ in range(BURST):
                    await self._save(n, token, rng, "cip_burst")
                continue
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=rng.uniform(3, 8))
            except TimeoutError:
                await self._save(n, token, rng, "cip_call")

    async def _save(self, n: int, token: str, rng: random.Random, name: str) -> None:
        """One call saved; on a connection error, the same call (same key) on another host."""
        received = datetime.now(UTC) - timedelta(minutes=rng.uniform(1, 4))
        body = {
            "received_at": received.isoformat(),
            "answered_at": (received + timedelta(seconds=20)).isoformat(),
            "commune": None,
            "topic": rng.choice(TOPICS),
            "question": "Les écoles sont-elles ouvertes demain ?",
            "answer": "Fermées jusqu'à lundi ; garderie au gymnase.",
        }
        key = uuid.uuid4().hex
        for attempt in range(3):
            host = self.hosts.pick(n + attempt)
            started, t0 = time.time(), time.perf_counter()
            ok, why = False, ""
            try:
                async with self._client(token, n + attempt) as http:
                    answer = await http.post(
                        f"/crises/{self.crisis_id}/cip/calls",
                        json=body,
                        headers={"Idempotency-Key": key},
                    )
                ok = answer.status_code == 201
                why = "" if ok else f"HTTP {answer.status_code} : {answer.text[:120]}"
            except httpx.TransportError as error:
                self.hosts.dead.add(host)
                why = f"pas de réponse : {error!r}"
            ms = (time.perf_counter() - t0) * 1000
            self.samples.append(report.Sample(started, name, ms, ok, why))
            if ok:
                return
            self.retried += 1


async def calls_logged(database: Database, crisis_id: int) -> int:
    async with database.read() as session:
        conn = await session.connection()
        query = "SELECT count(*) FROM cip_call WHERE crisis_id = :c"
        return int((await conn.execute(sa.text(query), {"c": crisis_id})).scalar_one())


# -- the public pages -------------------------------------------------------------------------


def raw_limit(url: str, *, seconds: int) -> dict[str, float]:
    """wrk on a trivial address of the same server: what this machine serves at most now."""
    from bench.public.public_bench import wrk  # it imports the driver, which imports this

    return wrk(url, duration=seconds, connections=32, threads=2)


@dataclass
class Hammer:
    """`hey` processes at a constant total rate, stopped with SIGINT (hey then reports)."""

    processes: dict[str, subprocess.Popen[str]]
    started: float

    @classmethod
    def start(cls, base: str, paths: dict[str, str], *, rate: int, limit_s: int) -> Hammer:
        workers = max(1, math.ceil(rate / len(paths) / HEY_WORKER_RATE))
        per_worker = max(1, round(rate / len(paths) / workers))
        processes = {
            name: subprocess.Popen(
                ["hey", "-z", f"{limit_s}s", "-c", str(workers), "-q", str(per_worker), base + p],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for name, p in paths.items()
        }
        return cls(processes, time.time())

    def stop(self) -> dict[str, Any]:
        seconds = time.time() - self.started
        results = {}
        for process in self.processes.values():
            process.send_signal(signal.SIGINT)
        for name, process in self.processes.items():
            out, _ = process.communicate(timeout=120)
            results[name] = read_hey(out)
        total = sum(r["count"] for r in results.values())
        return {
            "seconds": seconds,
            "per_s": total / max(seconds, 1e-9),
            "errors": sum(r["errors"] for r in results.values()),
            "pages": results,
        }


def read_hey(out: str) -> dict[str, Any]:
    """hey's summary: rate, p50/p95/p99 (ms), answers, answers other than 200 and errors."""
    found = {f"p{p}_ms": float(v) * 1000 for p, v in _HEY_LATENCY.findall(out)}
    statuses = {int(c): int(n) for c, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    failed = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s+Get ", out, re.M))
    rate = _HEY_RATE.search(out)
    answered = sum(statuses.values())
    return {
        "rate": float(rate.group(1)) if rate else 0.0,
        "count": answered + failed,
        "errors": answered - statuses.get(200, 0) + failed,
        **{k: found.get(k) for k in ("p50_ms", "p95_ms", "p99_ms")},
    }


# -- the kill ---------------------------------------------------------------------------------


def group_pids(pgid: int) -> set[int]:
    """The processes of a process group (the serve, its web, worker and sandbox children)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.add(int(entry.name))
            except ProcessLookupError:
                continue
    return pids


_INSTANCES = "SELECT id, name, released_at FROM dispatch_instance WHERE stopped_at IS NULL"
_HOLDER = "SELECT holder FROM scheduler_lease WHERE expires_at > now()"


async def _rows(database: Database, query: str) -> list[Any]:
    async with database.read() as session:
        conn = await session.connection()
        return list((await conn.execute(sa.text(query))).all())


async def kill_and_watch(database: Database, pgid: int, *, limit_s: float = 120) -> dict[str, Any]:
    """SIGKILL the group; seconds until its claims are put back and a live instance leads."""
    pids = group_pids(pgid)
    victims = {
        r.id for r in await _rows(database, _INSTANCES) if int(r.name.split(":")[-1]) in pids
    }
    holder = await _rows(database, _HOLDER)
    was_leader = bool(holder) and holder[0].holder in victims
    os.killpg(pgid, signal.SIGKILL)
    killed, killed_at = time.monotonic(), time.time()
    released = led = None
    for _ in itertools.count():
        waited = time.monotonic() - killed
        rows = await _rows(database, _INSTANCES.replace(" WHERE stopped_at IS NULL", ""))
        if released is None and victims and all(r.released_at for r in rows if r.id in victims):
            released = waited
        now_holder = await _rows(database, _HOLDER)
        if led is None and now_holder and now_holder[0].holder not in victims:
            led = waited
        if (released is not None and led is not None) or waited > limit_s:
            break
        await asyncio.sleep(0.25)
    return {
        "killed_at": killed_at,
        "instances_killed": len(victims),
        "was_leader": was_leader,
        "claims_back_s": released,
        "leader_s": led,
    }


# -- the whole act ----------------------------------------------------------------------------

Progress = Callable[[], Awaitable[tuple[int, int]]]
"""(deliveries, settled) of the bulletin fanning out."""


@dataclass
class Everything:
    """What runs beside the watchers, begun in the idle window, ended after the fan-out."""

    database: Database
    hosts: Hosts
    desk: CipDesk
    trainer: httpx.AsyncClient
    communes: list[str]
    participants: list[int]
    public_paths: dict[str, str]
    rate: int
    groups: dict[str, int] = field(default_factory=dict)
    """The instances' process groups by URL (PostgreSQL, several instances): one is killed."""
    kill_leader: bool = True
    kill_alert: tuple[httpx.AsyncClient, int, int] | None = None
    """(the prefect's client, a crisis, its first threshold in minutes): its first clock alert
    is made due 3 s after the kill, to time the new leader's tick."""
    kill_at: float = 0.3
    results: dict[str, Any] = field(default_factory=dict)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _hammer: Hammer | None = None
    _victim: str | None = None

    async def begin(self, *, limit_s: int) -> None:
        """The drill launched, the CIP at work, the raw limit measured, then the flood."""
        self.results["drill"] = await launch_drill(self.trainer, self.communes, self.participants)
        self._tasks.append(asyncio.create_task(self.desk.run()))
        self._victim = await self._choose_victim()
        survivor = next(u for u in self.hosts.urls if u != self._victim)
        self.results["raw_limit"] = await asyncio.to_thread(
            raw_limit, f"{survivor}/healthz", seconds=10
        )
        self._hammer = Hammer.start(survivor, self.public_paths, rate=self.rate, limit_s=limit_s)

    def published(self, progress: Progress) -> None:
        """The bulletin is out: the CIP's burst, and the kill once `kill_at` has settled."""
        self.desk.burst.set()
        if self._victim is not None:
            self._tasks.append(asyncio.create_task(self._kill_when(progress, self._victim)))

    async def _choose_victim(self) -> str | None:
        """The instance whose worker leads (or one that does not, `kill_leader` false)."""
        if len(self.groups) < 2:
            return None
        holder = await _rows(self.database, _HOLDER)
        names = {r.id: r.name for r in await _rows(self.database, _INSTANCES)}
        leading = names.get(holder[0].holder, "") if holder else ""
        pid = int(leading.split(":")[-1]) if leading else -1
        leader = next((u for u, g in self.groups.items() if pid in group_pids(g)), None)
        others = [u for u in self.groups if u != leader]
        return leader if self.kill_leader and leader else others[-1]

    async def _kill_when(self, progress: Progress, victim: str) -> None:
        while True:
            total, settled = await progress()
            if total and settled >= self.kill_at * total:
                break
            await asyncio.sleep(0.5)
        if self.kill_alert is not None:
            prefect, crisis_id, minutes = self.kill_alert
            due = datetime.now(UTC) + timedelta(seconds=3)
            body = {
                "activated_at": (due - timedelta(minutes=minutes)).isoformat(),
                "synergi_ref": f"SYN-80-2026-{crisis_id:04d}",
                "decided_by": "Préfète de la Somme",
            }
            await _ok(await prefect.post(f"/crises/{crisis_id}/cod", json=body))
        self.hosts.dead.add(victim)
        self.results["kill"] = await kill_and_watch(self.database, self.groups[victim]) | {
            "settled_before": settled
        }

    async def finish(self, crisis_id: int) -> dict[str, Any]:
        self.desk.stop.set()
        if self._hammer is not None:
            self.results["public"] = await asyncio.to_thread(self._hammer.stop)
        await asyncio.gather(*self._tasks)
        await self.trainer.aclose()
        self.results["cip"] = {
            "operators": len(self.desk.tokens),
            "retried": self.desk.retried,
            "logged": await calls_logged(self.database, crisis_id),
        }
        return self.results
