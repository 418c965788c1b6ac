"""The public channels under a flood: feed, list, bulletin page and CAP file, from the cache.

    .venv/bin/python -m bench.public.public_bench [--duration 15] [--connections 64]
        [--threads 2] [--warmup 30] [--rate 2000] [--postgres SERVER_URL]

Starts `tocsin serve --demo` on a free port of 127.0.0.1 (a throwaway SQLite file, or a
throwaway PostgreSQL database on `--postgres`'s server), whose demo publishes a bulletin to
the public, then for each public URL runs `wrk` (Debian package `wrk`: `apt-get install
wrk`) for `--duration` seconds with `--connections` open connections, and reads its request
rate and its latency percentiles; with `--rate N`, `hey` (Debian package `hey`) sends a
constant N requests/s instead, over 40 connections, and the percentiles are those of that
rate — the objective's own terms. Then it publishes a new public bulletin straight into the
database (as another process would) and measures how long until the feed shows it
(published to visible). Only 127.0.0.1 is ever loaded; each run is bounded in time.
Objective (issue 21): 2,000 requests/s with p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import select

from bench.load.driver import Server, start_server, throwaway
from crisis.app.db import Database
from crisis.bulletin.record import Bulletin
from crisis.cell.crises import Crisis

TARGET_RATE = 2000.0
TARGET_P99_MS = 50.0
_LATENCY = re.compile(r"^\s+(50|90|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


_HEY_LATENCY = re.compile(r"^\s+(50|90|99)%+ in ([\d.]+) secs", re.M)


def read_hey(out: str) -> dict[str, float]:
    """hey's summary: the achieved rate, p50/p90/p99 (ms) and the answers other than 200."""
    achieved = _RATE.search(out)
    found = {f"p{p}_ms": float(v) * 1000 for p, v in _HEY_LATENCY.findall(out)}
    ok = re.search(r"\[200\]\s+(\d+) responses", out)
    total = sum(int(n) for n in re.findall(r"\[\d{3}\]\s+(\d+) responses", out))
    return {
        "rate": float(achieved.group(1)) if achieved else 0.0,
        **found,
        "errors": float(total - (int(ok.group(1)) if ok else 0)),
    }


def read_wrk(out: str) -> dict[str, float]:
    """wrk's summary (`--latency`): rate, p50/p90/p99 (ms) and non-2xx/3xx answers."""
    rate = _RATE.search(out)
    found = {f"p{p}_ms": float(v) * _UNIT_MS[u] for p, v, u in _LATENCY.findall(out)}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rate": float(rate.group(1)) if rate else 0.0,
        **found,
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def hey(url: str, *, duration: int, rate: int, workers: int = 40) -> dict[str, float]:
    """A constant rate: `rate` requests/s spread over `workers` connections."""
    per_worker = max(1, rate // workers)
    args = ["hey", "-z", f"{duration}s", "-c", str(workers), "-q", str(per_worker), url]
    run = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    return read_hey(run.stdout)


def wrk(url: str, *, duration: int, connections: int, threads: int) -> dict[str, float]:
    """As many requests as `connections` open connections carry."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    run = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    return read_wrk(run.stdout)


async def _first_public(db_url: str) -> Bulletin:
    db = Database.from_url(db_url)
    try:
        async with db.read() as session:
            rows = (await session.exec(select(Bulletin).where(Bulletin.exercise == False))).all()  # noqa: E712
            return next(b for b in rows if "public" in b.audiences and b.status == "published")
    finally:
        await db.dispose()


async def _publish_one(db_url: str, title: str) -> None:
    """A public bulletin written straight into the table, as another process's publication."""
    db = Database.from_url(db_url)
    try:
        async with db.transaction() as session:
            crisis = (await session.exec(select(Crisis).where(Crisis.mode == "real"))).first()
            assert crisis is not None and crisis.id is not None
            now = datetime.now(UTC)
            session.add(
                Bulletin(
                    crisis_id=crisis.id,
                    title=title,
                    body="Mesure de délai.",
                    audiences=["public"],
                    status="published",
                    content_hash="0" * 64,
                    author="bench",
                    created_at=now,
                    updated_at=now,
                    published_at=now,
                )
            )
    finally:
        await db.dispose()


def visibility_delay(server: Server) -> float:
    """Seconds from a publication (committed) to the feed showing it."""
    title = f"Visibilité {time.time_ns()}"
    httpx.get(f"{server.url}/public/feed.atom")  # cached before the publication
    asyncio.run(_publish_one(server.db_url, title))
    published = time.monotonic()
    while time.monotonic() - published < 10:
        if title in httpx.get(f"{server.url}/public/feed.atom").text:
            return time.monotonic() - published
        time.sleep(0.02)
    return float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--postgres", default="")
    parser.add_argument(
        "--rate", type=int, default=0, help="débit constant (req/s) avec hey au lieu de wrk"
    )
    parser.add_argument("--warmup", type=int, default=30, help="secondes : le worker de la démo")
    args = parser.parse_args()
    tool = "hey" if args.rate else "wrk"
    if shutil.which(tool) is None:
        sys.exit(f"{tool} introuvable : apt-get install {tool}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        kind = "postgresql" if args.postgres else "sqlite"
        with throwaway(kind, args.postgres, workdir) as db_url:
            server = start_server(workdir, db_url)
            try:
                _run(server, args)
            finally:
                server.stop()


def _run(server: Server, args: argparse.Namespace) -> None:
    time.sleep(args.warmup)  # the demo's worker sends its first messages meanwhile
    shown = asyncio.run(_first_public(server.db_url))
    urls = {
        "/healthz (référence : le plancher du serveur)": "/healthz",
        "page d'un communiqué": f"/public/bulletins/{shown.public_id}",
        "alerte CAP": f"/public/cap/{shown.public_id}.xml",
        "liste": "/public/bulletins",
        "flux Atom": "/public/feed.atom",
    }
    print("| adresse | requêtes/s | p50 | p90 | p99 | erreurs | objectif |")
    print("|---|---|---|---|---|---|---|")
    for name, path in urls.items():
        warm = httpx.get(f"{server.url}{path}")  # and fill the cache
        warm.raise_for_status()
        if args.rate:
            got = hey(f"{server.url}{path}", duration=args.duration, rate=args.rate)
        else:
            got = wrk(
                f"{server.url}{path}",
                duration=args.duration,
                connections=args.connections,
                threads=args.threads,
            )
        # hey paces each connection separately and lands a little under the asked rate
        floor = 0.98 * TARGET_RATE if args.rate else TARGET_RATE
        met = got["rate"] >= floor and got.get("p99_ms", 1e9) < TARGET_P99_MS
        print(
            f"| {name} ({len(warm.content):,} o) | {got['rate']:.0f} | "
            f"{got.get('p50_ms', 0):.1f} ms | "
            f"{got.get('p90_ms', 0):.1f} ms | {got.get('p99_ms', 0):.1f} ms | "
            f"{got['errors']:.0f} | {'tenu' if met else 'non tenu'} |"
        )
    delays = [visibility_delay(server) for _ in range(5)]
    print(
        f"\npublié → visible dans le flux : max {max(delays):.2f} s "
        f"(5 mesures : {', '.join(f'{d:.2f}' for d in delays)})"
    )


if __name__ == "__main__":
    main()
