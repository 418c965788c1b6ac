"""Schemathesis against `/openapi.json`, as every role and anonymous: a long run.

    .venv/bin/python -m bench.fuzz.fuzz_bench [--examples 25] [--stateful 50] [--seed 22]
        [--roles prefet,anonyme] [--postgres SERVER_URL]

SQLite runs on a throwaway file; `--postgres postgresql://postgres@127.0.0.1/postgres` creates a
throwaway database on that server and drops it afterwards. The application is the production
one (`create_app`), asked in process through ASGI: each `/api/v1` operation gets `--examples`
valid and `--examples` invalid cases per role, drawn from its declared schema; ids the API
hands back are reused in later path parameters; then, per authenticated role, `--stateful`
scenarios of schemathesis's state machine follow the links it infers between operations.
Prints requests by role, statuses, and what the checks found (5xx, statuses not declared,
bodies off their schema, content types and headers not declared, 405 without `Allow`).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

from pydantic import SecretStr

from bench.databases import throwaway
from crisis.app import bootstrap
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from tests.crisis.app.fuzz_support import Report, fuzz, seed
from tests.support import FrozenClock


def _print(report: Report, seconds: float) -> None:
    total = sum(report.requests.values())
    print(f"requests: {total} in {seconds:.0f} s; links inferred: {report.links}")
    for role, count in sorted(report.requests.items()):
        print(f"  {role:28} {count}")
    print("statuses:", dict(sorted(report.statuses.items())))
    kinds = Counter(f.kind for f in report.findings)
    print("findings:", dict(kinds) or "none")
    for kind in sorted(kinds):
        distinct = sorted(report.distinct(kind), key=lambda d: (d[1], d[0], d[2]))
        print(f"  {kind}: {len(distinct)} distinct (method, path, status)")
        for method, path, status in distinct[:60]:
            detail = next(
                f.detail
                for f in report.kinds(kind)
                if (f.method, f.path, f.status) == (method, path, status)
            )
            print(f"    {status} {method} {path}  {detail[:100]}")


async def _run(args: argparse.Namespace) -> None:
    postgres = args.postgres
    async with throwaway(postgres, name="fuzz") as (db, url):
        await bootstrap.prepare(db, url)
        clock = FrozenClock()
        tokens = await seed(db, clock)
        if args.roles:
            tokens = {login: tokens[login] for login in args.roles.split(",")}
        await db.dispose()
        settings = Settings(
            database_url=url,
            secret_key=SecretStr("bench-secret-key-not-for-production"),
            scheduler_enabled=False,
            json_logs=False,
        )
        app = create_app(settings, clock=clock)
        started = time.perf_counter()
        report = await asyncio.to_thread(
            fuzz,
            app,
            tokens,
            max_examples=args.examples,
            seed=args.seed,
            stateful_examples=args.stateful,
        )
        _print(report, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--stateful", type=int, default=50)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--roles", default=None, help="logins of ROLES, comma-separated")
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    asyncio.run(_run(args))


if __name__ == "__main__":
    main()
