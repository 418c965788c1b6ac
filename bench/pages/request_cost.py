"""Processor time per request of each page the load benchmark's users cycle, 100,000 deliveries.

    .venv/bin/python -m bench.pages.request_cost [--deliveries 100000] [--requests 40]
        [--postgres SERVER_URL] [--profile NAME]

The crisis of `bench.pages.pages_bench` (its `seed`); in process (`httpx.ASGITransport`), the
dashboard, the crisis page, the crisis' bulletins fragment and the tracking page, asked three
ways. Rendered: the app's clock moves on past the pages' sharing before each request, so each
one renders (a user alone). Shared: the clock stands still, as when fifty users ask within the
same second and the first one's rendering serves them all (a request under the load
benchmark). Per role: four users of the load benchmark's four roles each ask once per second of
the clock (each renders its visibility class; what they can share, they share). `/healthz` goes
through the same stack: the floor. The live stream `/flux` is opened by a raw ASGI call: time
to its first byte and to its first `change` event. Processor time is this process' (the
client's share included; PostgreSQL's server work not). `--profile NAME` prints cProfile's top
functions for that row's shared requests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import time
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from bench.databases import served_settings, throwaway
from bench.pages.pages_bench import T0, _load, seed
from crisis.app import bootstrap
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.web import shared_pages
from tests.crisis.app.web_session import log_in
from tests.support import FrozenClock, make_user


async def _cost(
    http: httpx.AsyncClient, clock: FrozenClock, path: str, requests: int, *, shared: bool
) -> tuple[float, float]:
    """(median processor ms, median wall ms) per request."""
    for _ in range(2):
        assert (await http.get(path)).status_code == 200, path
    cpu, wall = [], []
    for _ in range(requests):
        if not shared:
            clock.advance(seconds=2 * shared_pages.MAX_AGE)
        start, processor = time.perf_counter(), time.process_time()
        answer = await http.get(path)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - processor)
        assert answer.status_code == 200, (path, answer.status_code)
    return statistics.median(cpu) * 1000, statistics.median(wall) * 1000


async def _stream(app: Any, cookies: httpx.Cookies, query: str) -> tuple[float, float, float]:
    """(ms to the first byte, ms to the first `change` event, processor ms to it) of `/flux`."""
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/flux",
        "raw_path": b"/flux",
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"tocsin.test"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 1),
        "server": ("tocsin.test", 80),
    }
    first, change = asyncio.get_running_loop().create_future(), asyncio.Event()
    start, processor = time.perf_counter(), time.process_time()

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        body = message.get("body", b"")
        if body and not first.done():
            first.set_result(time.perf_counter() - start)
        if b"event: change" in body:
            change.set()

    task = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait_for(change.wait(), 30)
    spent, cpu = time.perf_counter() - start, time.process_time() - processor
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return first.result() * 1000, spent * 1000, cpu * 1000


class Statements:
    """SQL statements the app sends (every pooled connection of the engine)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


async def _per_role(
    clients: list[httpx.AsyncClient], clock: FrozenClock, path: str, rounds: int
) -> float:
    """Median processor ms per request when each role's first request of a second renders."""
    for client in clients:
        assert (await client.get(path)).status_code == 200, path
    cpu = []
    for _ in range(rounds):
        clock.advance(seconds=2 * shared_pages.MAX_AGE)
        processor = time.process_time()
        for client in clients:
            assert (await client.get(path)).status_code == 200, path
        cpu.append((time.process_time() - processor) / len(clients))
    return statistics.median(cpu) * 1000


def _profile(http: httpx.AsyncClient, path: str, requests: int) -> tuple[cProfile.Profile, Any]:
    profile = cProfile.Profile()

    async def run() -> None:
        profile.enable()
        for _ in range(requests):
            await http.get(path)
        profile.disable()

    return profile, run()


async def _roles_logged_in(
    db: Any, clock: FrozenClock, transport: httpx.ASGITransport
) -> list[httpx.AsyncClient]:
    """Four browsers, as the load benchmark's users: one role each."""
    clients = []
    for role in ("communicator", "validator", "prefect", "operator"):
        user = await make_user(db, clock, f"bench-{role}", role)
        client = httpx.AsyncClient(transport=transport, base_url="http://tocsin.test")
        await log_in(client, user.login, user.password)
        clients.append(client)
    return clients


async def bench(
    *, deliveries: int, requests: int, postgres: str | None, profile: str | None
) -> dict[str, Any]:
    async with throwaway(postgres, name="cost") as (db, url):
        await bootstrap.prepare(db, url)
        clock = FrozenClock(T0 + timedelta(minutes=40))
        crisis_id, bulletin_id = await seed(db, clock, deliveries)
        user = await make_user(db, clock, "bench", "prefect", "communicator", "validator")
        app = create_app(served_settings(url), clock=clock, database=db)
        statements = Statements(db)
        pages = {
            "healthz": "/healthz",
            "dashboard": "/",
            "crisis page": f"/evenements/{crisis_id}",
            "bulletins fragment": f"/fragments/evenements/{crisis_id}/communiques",
            "tracking page": f"/communiques/{bulletin_id}/suivi",
        }
        results: dict[str, Any] = {"database": db.dialect}
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http,
        ):
            await log_in(http, user.login, user.password)
            for name, path in pages.items():
                rendered = await _cost(http, clock, path, requests, shared=False)
                shared = await _cost(http, clock, path, requests, shared=True)
                results[name] = {"rendered": rendered, "shared": shared}
                print(
                    f"  {name:19} processor rendered {rendered[0]:6.1f} ms, shared "
                    f"{shared[0]:6.1f} ms (wall {rendered[1]:6.1f} / {shared[1]:6.1f} ms; "
                    f"{_load()})"
                )
            roles = await _roles_logged_in(db, clock, transport)
            for name, path in list(pages.items())[1:]:
                before = statements.count
                spent = await _per_role(roles, clock, path, requests)
                sql = (statements.count - before) / ((requests + 1) * len(roles))
                results[name]["per role"] = (spent, sql)
                print(
                    f"  {name:19} processor, first request of each of 4 roles: {spent:6.1f} ms, "
                    f"{sql:4.1f} statements"
                )
            for topic, query in (("board", ""), ("tracking", f"communique={bulletin_id}")):
                opened = await _stream(app, http.cookies, query)
                results[f"stream {topic}"] = opened
                print(
                    f"  /flux {topic:13} first byte {opened[0]:6.1f} ms, first change "
                    f"{opened[1]:6.1f} ms (processor {opened[2]:6.1f} ms)"
                )
            if profile:
                profiler, run = _profile(http, pages[profile], requests)
                await run
                stats = pstats.Stats(profiler)
                stats.sort_stats("cumulative").print_stats(60)
                stats.sort_stats("tottime").print_stats(30)
        await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--postgres", help="server URL; a throwaway database is made there")
    parser.add_argument("--profile", help="a row's name: its shared requests profiled")
    args = parser.parse_args()
    asyncio.run(
        bench(
            deliveries=args.deliveries,
            requests=args.requests,
            postgres=args.postgres,
            profile=args.profile,
        )
    )


if __name__ == "__main__":
    main()
