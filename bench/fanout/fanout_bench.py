"""Fan-out: N e-mails enqueued in one transaction, then dispatched to the sandbox SMTP server.

    .venv/bin/python -m bench.fanout.fanout_bench [--recipients 10000] [--db sqlite|postgresql]
        [--apprise 500] [--rounds 1] [--connections 4] [--profile FILE]

The SMTP server (aiosmtpd, bodies not parsed) runs in its own process. The service side
(enqueue with ``outbox.enqueue``, then the ``Dispatcher`` until every delivery is recorded)
runs in a child process of its own, whose peak RSS is reported. In the same run, the raw
aiosmtplib loop and Apprise send to the same server; the raw loop and the service's SMTP pool
open the same number of connections (``--connections``) and send messages of the same shape.
With ``--rounds R`` the service runs R times (a new fan-out of N each time), each run between
two raw runs, and ``ratio_raw`` is the median service rate over the median raw rate: the
speed of a shared virtual machine drifts by ±15 % from one run to the next.
``cpu_us_per_message`` gives the CPU each side spent per message (the service, the SMTP server
during the service, PostgreSQL's processes during the service, the raw client, the SMTP server
during the raw runs): on a machine with two cores, the slower of client and server sets the
pace.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

import sqlalchemy as sa

from bench.channels.email_bench import SENDER, TEXT, run_raw
from bench.channels.servers import smtp_server
from bench.served import command_cpu_seconds

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _timed(module: Any, name: str, totals: dict[str, list[float]]) -> None:
    """Wrap ``module.name`` (a coroutine function) to add up its calls and seconds."""
    original = getattr(module, name)
    totals[name] = [0, 0.0]

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            totals[name][0] += 1
            totals[name][1] += time.perf_counter() - start

    setattr(module, name, wrapper)


def _cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of this process (all its threads) or of process ``pid``."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _database_cpu_seconds() -> float:
    """User + system CPU seconds of every PostgreSQL server process (0 without one)."""
    return command_cpu_seconds("postgres")


def _service(
    conn: Connection, url: str, port: int, n: int, connections: int, profile: str | None
) -> None:
    from crisis.dispatch import store as dispatch_store

    sql: dict[str, list[float]] = {}
    for name in ("claim", "record"):
        _timed(dispatch_store, name, sql)
    result = asyncio.run(_fan_out(url, port, n, connections, profile))
    result["sql_calls_seconds"] = {name: [int(c), round(t, 3)] for name, (c, t) in sql.items()}
    conn.send(result)


async def _enqueue(db: Any, n: int) -> None:
    from crisis.dispatch import outbox
    from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering

    requests = [
        DeliveryRequest(
            channel="email",
            address=f"maire{i}@mairie-{i % 780}.fr",
            audience="officials",
            recipient_name=f"Maire n° {i}",
        )
        for i in range(n)
    ]
    rendering = Rendering(
        channel="email", subject="Crue de la Somme", text=TEXT, html=f"<p>{TEXT}</p>"
    )
    async with db.transaction() as session:
        await outbox.enqueue(
            session,
            purpose=Purpose.BULLETIN,
            renderings=[rendering],
            requests=requests,
            now=datetime.now(UTC),
            exercise=False,
        )


async def _fan_out(
    url: str, port: int, n: int, connections: int, profile: str | None
) -> dict[str, Any]:
    """Enqueue ``n`` e-mails, then run the dispatcher until every delivery is recorded."""
    from channels.config import ChannelsConfig, SmtpConfig
    from crisis.app import bootstrap
    from crisis.app.db import Database
    from crisis.app.dispatch import dispatcher_from_config

    db = Database.from_url(url)
    await bootstrap.prepare(db, url)
    start = time.perf_counter()
    await _enqueue(db, n)
    enqueued = time.perf_counter()
    smtp = SmtpConfig(
        host="127.0.0.1", port=port, security="none", pool_size=connections, rate_per_second=1e6
    )
    worker = dispatcher_from_config(
        db=db, channels=ChannelsConfig(smtp=smtp), exercise_channels=ChannelsConfig()
    )
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    # PostgreSQL's processes, read while the service's connections are still open.
    cpu, database_cpu = _cpu_seconds(), _database_cpu_seconds()
    sent = 0
    while True:
        report = await worker.run(datetime.now(UTC))
        sent += report.sent
        if report.claimed == 0:
            break
    done = time.perf_counter()
    cpu = _cpu_seconds() - cpu
    database_cpu = _database_cpu_seconds() - database_cpu
    if profiler is not None and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    await worker.aclose()
    async with db.read() as session:
        counts = dict(
            (
                await session.execute(
                    sa.text("SELECT status, count(*) FROM delivery GROUP BY status")
                )
            ).all()
        )
    await db.dispose()
    return {
        "insert_s": enqueued - start,
        "dispatch_s": done - enqueued,
        "total_s": done - start,
        "dispatch_cpu_s": cpu,
        "database_cpu_s": database_cpu,
        "sent": sent,
        "statuses": counts,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_apprise(port: int, n: int) -> float:
    """Apprise's e-mail plugin, one notification per message, plain SMTP, no credentials.

    One ``Apprise`` object per message, as ``channels.apprise_adapter`` does: a plugin
    instance waits ``request_rate_per_sec`` (5.5 s) between two of its own sends, which is
    what the earlier 0.19 msg/s measured. Messages the server did not count are an error.
    """
    import apprise

    url = f"mailto://127.0.0.1:{port}?smtp=127.0.0.1&from={SENDER}&mode=insecure"
    start = time.perf_counter()
    for i in range(n):
        notifier = apprise.Apprise()
        notifier.add(f"{url}&to=maire{i}@mairie-{i % 780}.fr")
        if not notifier.notify(body=TEXT, title=f"Crue de la Somme {i}"):
            raise RuntimeError("Apprise failed to send")
    return n / (time.perf_counter() - start)


def run_service(
    url: str, port: int, n: int, connections: int, profile: str | None = None
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_service, args=(child, url, port, n, connections, profile))
    process.start()
    child.close()  # a crash of the child then ends ``recv`` instead of hanging it
    result: dict[str, Any] = parent.recv()
    process.join()
    return result


def _apprise_round(server: Any, port: int, n: int) -> float:
    server.ask("reset")
    rate = run_apprise(port, n)
    if server.ask("count") != n:
        raise RuntimeError("Apprise: the server did not receive every message")
    return rate


def _database(kind: str) -> tuple[str, Any]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="tocsin-bench-")
        return f"sqlite:///{folder}/bench.db", None
    from crisis.app.db import make_engine

    name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        engine = make_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(sa.text(sql))
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    return POSTGRES.rsplit("/", 1)[0] + f"/{name}", lambda: asyncio.run(
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )


def bench(
    *,
    deliveries: int,
    db: str,
    apprise: int,
    rounds: int = 1,
    connections: int = 4,
    profile: str | None = None,
) -> dict[str, Any]:
    """``rounds`` service runs, each between two raw runs; the ratio compares medians."""
    url, drop = _database(db)
    services: list[dict[str, Any]] = []
    served: list[float] = []
    try:
        with smtp_server() as server:
            port = int(server.address)
            pid = server.process.pid
            raw_rates: list[float] = []
            raw_cpu: dict[str, float] = {"client": 0.0, "server": 0.0}

            def raw_round() -> None:
                server.ask("reset")
                client, serving = _cpu_seconds(), _cpu_seconds(pid)
                raw = asyncio.run(run_raw(port, deliveries, connections=connections))
                raw_rates.append(raw.rate)
                raw_cpu["client"] += _cpu_seconds() - client
                raw_cpu["server"] += _cpu_seconds(pid) - serving

            # The speed of a shared machine drifts: every service run sits between two raw ones.
            raw_round()
            for _ in range(rounds):
                server.ask("reset")
                serving = _cpu_seconds(pid)
                services.append(run_service(url, port, deliveries, connections, profile))
                served.append(_cpu_seconds(pid) - serving)
                received = server.ask("count")
                if received != deliveries:
                    raise RuntimeError(f"service: the server got {received}/{deliveries}")
                raw_round()
            apprise_rate = _apprise_round(server, port, apprise) if apprise else 0.0
    finally:
        if drop is not None:
            drop()
    result = _summary(
        db=db,
        deliveries=deliveries,
        connections=connections,
        rounds=rounds,
        services=services,
        served=served,
        raw_rates=raw_rates,
        raw_cpu=raw_cpu,
        apprise_rate=apprise_rate,
    )
    print(json.dumps(result, indent=2, default=str))
    return result


def _summary(
    *,
    db: str,
    deliveries: int,
    connections: int,
    rounds: int,
    services: list[dict[str, Any]],
    served: list[float],
    raw_rates: list[float],
    raw_cpu: dict[str, float],
    apprise_rate: float,
) -> dict[str, Any]:
    """Medians, ratios and CPU per message of a whole run."""
    rates = [deliveries / service["dispatch_s"] for service in services]
    rate = statistics.median(rates)
    raw_rate = statistics.median(raw_rates)
    messages = deliveries * rounds
    raw_messages = deliveries * len(raw_rates)
    last = services[-1]
    return {
        "db": db,
        "deliveries": deliveries,
        "connections": connections,
        "rounds": rounds,
        **last,
        "peak_rss_mb": max(service["peak_rss_mb"] for service in services),
        "dispatch_rate": rate,
        "dispatch_rates": rates,
        "raw_rate": raw_rate,
        "raw_rates": raw_rates,
        # Each service run against the mean of the raw runs just before and just after it.
        "round_ratios": [r / statistics.mean(raw_rates[i : i + 2]) for i, r in enumerate(rates)],
        # CPU microseconds per message: where the limit is on a machine with few cores.
        "cpu_us_per_message": {
            "service": 1e6 * sum(s["dispatch_cpu_s"] for s in services) / messages,
            "smtp_server_during_service": 1e6 * sum(served) / messages,
            "database_during_service": 1e6 * sum(s["database_cpu_s"] for s in services) / messages,
            "raw_client": 1e6 * raw_cpu["client"] / raw_messages,
            "smtp_server_during_raw": 1e6 * raw_cpu["server"] / raw_messages,
        },
        "load_average": os.getloadavg(),
        "ratio_raw": rate / raw_rate,
        "apprise_rate": apprise_rate,
        "ratio_apprise": rate / apprise_rate if apprise_rate else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", "--recipients", dest="deliveries", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--apprise", type=int, default=500, help="Apprise messages (0: skip)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="service runs, each between two raw runs"
    )
    parser.add_argument(
        "--connections", type=int, default=4, help="SMTP connections, raw loop and service alike"
    )
    parser.add_argument("--profile", help="cProfile stats of the dispatch phase to this file")
    args = parser.parse_args()
    bench(
        deliveries=args.deliveries,
        db=args.db,
        apprise=args.apprise,
        rounds=args.rounds,
        connections=args.connections,
        profile=args.profile,
    )


if __name__ == "__main__":
    main()
