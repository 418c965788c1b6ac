"""Load benchmark (issue 16, point 6): users watching a crisis while a bulletin fans out.

    bench/load/run --db sqlite|postgres|both [--url postgresql://…/postgres]
                   [--officials 10000] [--users 50] [--duration 60] [--public-clients 200]
                   [--web-processes N]
                   [--everything [--operators 20] [--public-rate 2000] [--instances 2]
                                 [--kill-at 0.3] [--kill leader|follower]]
                   [--front none|nginx]

For each database, on a fresh SQLite file or a throwaway PostgreSQL database (created on the
server of `--url`, dropped afterwards), the driver starts `tocsin serve --demo` on a free port
(with `--web-processes N` on PostgreSQL: N web processes on the one socket; SQLite keeps one)
and stops it at the end (its process group: a worker child goes too). Then:

1. Stage (not timed): `--officials` municipal councillors with an e-mail address each, imported
   with `tocsin contacts import` into the communes of the Abbeville arrondissement (with the
   demo's own officials there, the fan-out's recipients); `--users` accounts `charge-NN`;
   API tokens of the demo's prefect, communicator and validator. The prefect declares a crisis
   on those communes (cell ordered, answered, operational; COD recorded).
2. Fan-out alone: a bulletin to the officials (e-mail) and the public (public page) is composed,
   submitted, approved by a second person and published through the API. Fan-out time = from
   the publish call to the last delivery settled (no delivery pending, sending or retrying),
   read from the database every second; the end is the last `sent_at`.
3. Under load: locust starts `--users` watchers (no think time; each holds `/flux` open, the
   first one opening another every second to time its first byte, and cycles dashboard →
   crisis page → bulletins fragment → tracking page). Once all are logged in, `--duration`
   seconds of « idle » load (tracking page of the first bulletin), then a second, identical
   bulletin is published (the publish call timed) and the users track it
   until its fan-out settles (or `--max-fanout` seconds: the rate so far is reported).
   Clock alerts: `--alert-crises` small crises get their COD recorded 30 minutes in the past,
   staggered, and the server runs with TOCSIN_CLOCK_ALERT_THRESHOLDS=[30, 31, …, 59] (a bench
   setting: one ES48 alert per crisis per minute): every alert due during the load is read back
   from the `clock_alert` table (due_at, sent_at — the instant the tick sent and journaled it).
4. Public page: `--public-clients` locust users read the first bulletin's public page
   (`/public/bulletins/{public_id}`, the id from `GET /api/v1/bulletins/{id}`) for
   `--duration` seconds: requests per second and p50/p99.

5. `--everything` (issue 22, point 5; bench/load/everything.py says how): during 3, a drill
   launched by the trainer, the CIP's operators logging calls, `hey` flooding the public pages
   in place of 4, and on PostgreSQL a second `tocsin serve --demo`, SIGKILLed mid-fan-out.
6. `--front nginx` (bench/load/front.py): nginx in front of the instances with the rules of
   deploy/nginx/tocsin-proxy.conf; every client (users, operators, trainer, flood) goes
   through it, as in a prefecture.

Results go to bench/load/results/ (not committed): per run a directory with locust's CSV, JSON
and the request logs, `<stamp>-<db>.json`, and `<stamp>.md` with the table of issue 16.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.load import everything, report, seed
from bench.load.front import Front, start_nginx
from bench.served import command_cpu_seconds, free_port, group_cpu_seconds, wait_ready
from crisis.app.db import Database, make_engine
from crisis.cell.clocks import Clock, ClockAlert
from crisis.dispatch.rows import Delivery

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
UNSETTLED = ("pending", "sending", "retrying")
THRESHOLDS = list(range(30, 60))
TOCSIN = (sys.executable, "-m", "crisis")
DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
ALERTS = ClockAlert.__table__  # type: ignore[attr-defined]
CLOCKS = Clock.__table__  # type: ignore[attr-defined]
TITLE = "Crue de la Somme dans l'Abbevillois"
BODY = """Situation (14 h) : la Somme déborde dans l'Abbevillois.
Communes concernées : l'arrondissement d'Abbeville.
Consignes : ne vous engagez pas sur les routes inondées.
Pour en savoir plus : https://www.somme.gouv.fr et ici Picardie.
Prochain point : 18 h."""


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


def ensure_locust() -> None:
    """Install the `bench` extra's locust from its hashed lock if it is missing."""
    found = subprocess.run([sys.executable, "-c", "import locust"], capture_output=True)
    if found.returncode == 0:
        return
    log("installation de l'extra « bench » (requirements-bench.lock)")
    lock = ROOT / "requirements-bench.lock"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--require-hashes", "-r", str(lock)]
    subprocess.run(pip, check=True)


# -- the database and the server --------------------------------------------------------------


@contextmanager
def throwaway(kind: str, admin_url: str, workdir: Path) -> Iterator[str]:
    """A database URL for one run: a SQLite file in `workdir`, or a PostgreSQL database created
    on `admin_url`'s server and dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'tocsin.db'}"
        return
    name = f"tocsin_load_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Server:
    url: str
    db_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """SIGTERM to the server's process group (a worker child too), SIGKILL after 20 s."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_shared_sandbox(workdir: Path, *, limit_s: float = 120) -> Server:
    """`tocsin sandbox` on ephemeral ports: the one sandbox every instance joins
    (`serve --demo --sandbox`), so that they share each account's budget, as instances of a
    prefecture share its relay, and a killed instance takes no fake down with it."""
    log_path = workdir / "sandbox.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [*TOCSIN, "sandbox", "--ephemeral"],
            stdout=out, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True,
        )  # fmt: skip
    sandbox = Server("", "", process, log_path)
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith("dashboard "):
                sandbox.url = line.split()[-1]
                log(f"bac à sable partagé prêt en {time.monotonic() - started:.1f} s")
                return sandbox
        if process.poll() is not None:
            break
        time.sleep(0.2)
    sandbox.stop()
    raise RuntimeError(f"bac à sable non démarré (voir {log_path})")


def start_server(
    workdir: Path, db_url: str, *, web_processes: int = 1, sandbox: Server | None = None
) -> Server:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "serve.log"
    env = os.environ | {
        "TOCSIN_SECRET_KEY": "load-bench",
        "TOCSIN_BASE_URL": url,
        "TOCSIN_CLOCK_ALERT_THRESHOLDS": json.dumps(THRESHOLDS),
    }
    args = [*TOCSIN, "serve", "--demo", "--db", db_url, "--port", str(port)]
    if sandbox is not None:
        args += ["--sandbox", sandbox.url]
    if web_processes > 1 and db_url.startswith("postgresql"):
        args += ["--web-processes", str(web_processes)]
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=workdir, start_new_session=True
        )
    server = Server(url, db_url, process, log_path)
    try:
        took = wait_ready(url, process, limit_s=300, log=str(log_path))
    except RuntimeError:
        server.stop()
        raise
    log(f"serveur prêt en {took:.1f} s sur {url}")
    return server


async def workers_registered(database: Database, *, count: int, limit_s: float = 300) -> None:
    """Wait for the workers to register: a long import holding SQLite's lock past the busy
    timeout while a worker starts kills it (see docs/benchmarks.md, « Tout à la fois »)."""
    live = sa.text("SELECT count(*) FROM dispatch_instance WHERE stopped_at IS NULL")
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        async with database.read() as session:
            if int((await session.execute(live)).scalar_one()) >= count:
                return
        await asyncio.sleep(1)
    raise RuntimeError(f"{count} worker(s) non enregistré(s) après {limit_s:.0f} s")


def import_officials(db_url: str, workdir: Path, *, communes: list[str], count: int) -> None:
    path = workdir / "elus.csv"
    seed.write_officials(path, communes=communes, count=count)
    started = time.monotonic()
    subprocess.run(
        [*TOCSIN, "contacts", "import", str(path), "--format", "tocsin", "--db", db_url],
        check=True,
        capture_output=True,
        timeout=900,
    )
    log(f"{count} élus importés en {time.monotonic() - started:.1f} s")


# -- the API ----------------------------------------------------------------------------------


class Api:
    """The demo's cabinet, each through its own API token."""

    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.clients = {
            login: httpx.AsyncClient(
                base_url=f"{url}/api/v1",
                headers={"Authorization": f"Bearer {token}"},
                timeout=600,
            )
            for login, token in tokens.items()
        }

    async def call(self, login: str, method: str, path: str, **kwargs: Any) -> Any:
        answer = await self.clients[login].request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path} ({login}) → {answer.status_code} {answer.text}")
        return answer.json() if answer.content else None

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


async def declare(api: Api, communes: list[str], *, title: str) -> int:
    body = {"title": title, "kind": "crue", "mode": "real", "communes": communes}
    crisis = await api.call("prefet", "POST", "/crises", json=body | {"activate_cell": True})
    return int(crisis["id"])


async def record_cod(api: Api, crisis_id: int, activated_at: datetime) -> None:
    body = {
        "activated_at": activated_at.isoformat(),
        "synergi_ref": f"SYN-80-2026-{crisis_id:04d}",
        "decided_by": "Préfète de la Somme",
    }
    await api.call("prefet", "POST", f"/crises/{crisis_id}/cod", json=body)


async def operational_crisis(api: Api, communes: list[str], *, title: str) -> int:
    """A crisis whose cell is ordered, answered and declared operational (the COD is refused
    before, whatever CONTRACT §3 says: see the report in docs/benchmarks.md)."""
    crisis_id = await declare(api, communes, title=title)
    for login, role in (("communicant", "communication"), ("valideur", "validator")):
        path = f"/crises/{crisis_id}/cell/acknowledgements"
        await api.call(login, "POST", path, json={"role": role})
    await api.call("communicant", "POST", f"/crises/{crisis_id}/cell/operational")
    return crisis_id


async def approved_bulletin(api: Api, crisis_id: int) -> int:
    """A bulletin to the officials (e-mail) and the public, submitted and approved."""
    draft = {
        "title": TITLE,
        "body": BODY,
        "audiences": ["officials", "public"],
        "channels": ["email", "public_page"],
    }
    created = await api.call("communicant", "POST", f"/crises/{crisis_id}/bulletins", json=draft)
    bulletin_id = int(created["id"])
    await api.call("communicant", "POST", f"/bulletins/{bulletin_id}/submit")
    await api.call("valideur", "POST", f"/bulletins/{bulletin_id}/approve")
    return bulletin_id


async def publish(api: Api, bulletin_id: int) -> tuple[datetime, float]:
    """Publish; (instant the call started, seconds the call took)."""
    at, t0 = datetime.now(UTC), time.perf_counter()
    await api.call("communicant", "POST", f"/bulletins/{bulletin_id}/publish")
    return at, time.perf_counter() - t0


async def progress(database: Database, bulletin_id: int) -> tuple[int, int, datetime | None]:
    """(deliveries, unsettled, last sent_at) of a bulletin, read from the database."""
    d = DELIVERIES.c
    query = sa.select(
        sa.func.count(),
        sa.func.count().filter(d.status.in_(UNSETTLED)),
        sa.func.max(d.sent_at),
    ).where(d.bulletin_id == bulletin_id)
    async with database.read() as session:
        conn = await session.connection()
        total, unsettled, last = (await conn.execute(query)).one()
    return int(total), int(unsettled), last


async def wait_fanout(
    database: Database, bulletin_id: int, published_at: datetime, *, limit_s: float
) -> dict[str, Any]:
    """Poll until every delivery of the bulletin is settled, or `limit_s` passed."""
    started = time.monotonic()
    while True:
        total, unsettled, last = await progress(database, bulletin_id)
        waited = time.monotonic() - started
        if (total and not unsettled) or waited > limit_s:
            break
        await asyncio.sleep(1.0)
    observed = (datetime.now(UTC) - published_at).total_seconds()
    settled = bool(total) and not unsettled
    end = (last - published_at).total_seconds() if settled and last else observed
    return {
        "deliveries": total,
        "settled": settled,
        "settled_count": total - unsettled,
        "seconds": end,
        "observed_s": observed,
        "per_s": (total - unsettled) / max(observed, 1e-9),
    }


async def alerts(database: Database, crisis_ids: list[int]) -> list[dict[str, Any]]:
    """The clock alerts of these crises that were owed (their clock not met before they came
    due: the demo's crisis has met clocks whose thresholds fall in the run), with their due and
    sent instants (epoch seconds; sent None when not sent)."""
    a, k = ALERTS.c, CLOCKS.c
    query = (
        sa.select(a.due_at, a.sent_at)
        .select_from(ALERTS.join(CLOCKS, k.id == a.clock_id))
        .where(a.crisis_id.in_(crisis_ids), sa.or_(k.met_at.is_(None), k.met_at > a.due_at))
    )
    async with database.read() as session:
        conn = await session.connection()
        rows = (await conn.execute(query)).all()
    return [
        {"due": due.timestamp(), "sent": sent.timestamp() if sent else None} for due, sent in rows
    ]


# -- locust -----------------------------------------------------------------------------------


@dataclass
class Locust:
    process: subprocess.Popen[bytes]
    request_log: Path
    state: Path

    def set_state(self, **values: Any) -> None:
        current = json.loads(self.state.read_text(encoding="utf-8"))
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(current | values), encoding="utf-8")
        tmp.replace(self.state)

    def samples(self) -> list[report.Sample]:
        return report.read_log(self.request_log)

    def wait(self, timeout: float) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=30)


def start_locust(
    user_class: str,
    *,
    host: str,
    users: int,
    out: Path,
    env: dict[str, str],
    run_time: str | None = None,
) -> Locust:
    out.mkdir(parents=True, exist_ok=True)
    state = out / "state.json"
    if not state.exists():
        state.write_text("{}", encoding="utf-8")
    request_log = out / "requests.csv"
    args = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--json",
        "--csv",
        str(out / "locust"),
        "-u",
        str(users),
        "-r",
        str(users),
        "--host",
        host,
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "5",
    ]
    if run_time:
        args += ["--run-time", run_time]
    full_env = os.environ | env | {"LOAD_STATE": str(state), "LOAD_LOG": str(request_log)}
    stdout = (out / "locust.json").open("wb")
    stderr = (out / "locust.log").open("wb")
    process = subprocess.Popen(  # its own process group, whose CPU is counted
        [*args, user_class], stdout=stdout, stderr=stderr, env=full_env, start_new_session=True
    )
    return Locust(process, request_log, state)


def cpu_seconds(
    servers: list[Server], locust: Locust, front: Front | None = None
) -> dict[str, float]:
    """CPU used so far by Tocsin (each server's group: web, worker, the demo's sandbox; the
    shared sandbox's), by
    locust, by PostgreSQL's processes (whichever database runs) and by nginx in front."""
    used = {
        "tocsin": sum(group_cpu_seconds(s.process.pid) for s in servers),
        "locust": group_cpu_seconds(locust.process.pid),
        "postgres": command_cpu_seconds("postgres"),
    }
    return used | ({"nginx": group_cpu_seconds(front.process.pid)} if front else {})


async def wait_logged_in(locust: Locust, users: int, *, limit_s: float = 300) -> None:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        logins = [s for s in locust.samples() if s.name == "login"]
        if sum(1 for s in logins if s.ok) >= 2 * users:
            failed = sum(1 for s in logins if not s.ok)
            took = time.monotonic() - started
            log(f"{users} utilisateurs connectés en {took:.1f} s ({failed} échecs)")
            return
        if locust.process.poll() is not None:
            raise RuntimeError("locust arrêté avant que tous les utilisateurs soient connectés")
        await asyncio.sleep(1)
    raise RuntimeError(f"utilisateurs non connectés après {limit_s} s")


# -- one run ----------------------------------------------------------------------------------


async def play(
    server: Server,
    args: argparse.Namespace,
    workdir: Path,
    out: Path,
    second: Server | None = None,
    front: Front | None = None,
    shared: Server | None = None,
) -> dict[str, Any]:
    database = Database.from_url(server.db_url)
    entry = front.url if front else server.url  # where every client goes
    api: Api | None = None
    extra: everything.Everything | None = None
    try:
        communes = await seed.communes_of(database, arrondissement=args.arrondissement)
        watchers = await seed.create_watchers(database, count=args.users)
        tokens = await seed.cabinet_tokens(database)
        (out / "watchers.json").write_text(
            json.dumps([{"login": w.login, "password": w.password} for w in watchers]),
            encoding="utf-8",
        )
        await workers_registered(database, count=2 if second else 1)
        import_officials(server.db_url, workdir, communes=communes, count=args.officials)
        api = Api(entry, tokens)
        crisis_id = await operational_crisis(api, communes, title=TITLE)
        await record_cod(api, crisis_id, datetime.now(UTC) - timedelta(minutes=1))
        log(f"événement n° {crisis_id} sur {len(communes)} communes")

        first = await approved_bulletin(api, crisis_id)
        published_at, publish_idle = await publish(api, first)
        alone = await wait_fanout(database, first, published_at, limit_s=args.max_fanout)
        log(f"diffusion seule : {alone['deliveries']} envois en {alone['seconds']:.1f} s")
        public = (await api.call("communicant", "GET", f"/bulletins/{first}"))["public_url"]
        public_path = httpx.URL(public).path
        instances = [server.url] + ([second.url] if second else [])
        hosts = everything.Hosts([entry] if front else instances)
        if args.everything:
            extra = await _everything(database, api, args, hosts, crisis_id, communes, public_path)
            if second:
                extra.groups = {s.url: s.process.pid for s in (server, second)}
                title = "Alerte pendant la bascule"
                kill_crisis = await operational_crisis(api, communes[-1:], title=title)
                extra.kill_alert = (api.clients["prefet"], kill_crisis, THRESHOLDS[0])

        second_bulletin = await approved_bulletin(api, crisis_id)
        alert_crises = []
        for n in range(args.alert_crises):
            alert_crises.append(
                await operational_crisis(api, communes[n : n + 1], title=f"Alerte de banc {n}")
            )
        watch_env = {
            "LOAD_WATCHERS": str(out / "watchers.json"),
            "LOAD_HOSTS": ",".join(hosts.urls),
        }
        (out / "watchers-run").mkdir(exist_ok=True)
        (out / "watchers-run" / "state.json").write_text(
            json.dumps({"crisis": crisis_id, "bulletin": first}), encoding="utf-8"
        )
        locust = start_locust(
            "Watcher", host=entry, users=args.users, out=out / "watchers-run", env=watch_env
        )
        try:
            await wait_logged_in(locust, args.users)
            idle_start = time.time()
            if extra is not None:
                await extra.begin(limit_s=args.duration + int(args.max_fanout) + 60)
            # The first alert of each small crisis falls in the idle window, then one a minute.
            for n, alert_crisis in enumerate(alert_crises):
                lead = 5 + n * 60 / max(len(alert_crises), 1)
                due = datetime.now(UTC) + timedelta(seconds=lead)
                await record_cod(api, alert_crisis, due - timedelta(minutes=THRESHOLDS[0]))
            await asyncio.sleep(max(0.0, args.duration - (time.time() - idle_start)))
            servers = [s for s in (server, second, shared) if s is not None]
            fanout_start, cpu_start = time.time(), cpu_seconds(servers, locust, front)
            published_at, publish_loaded = await publish(api, second_bulletin)
            locust.set_state(bulletin=second_bulletin)
            if extra is not None:
                extra.published(lambda: settled_of(database, second_bulletin))
            loaded = await wait_fanout(
                database, second_bulletin, published_at, limit_s=args.max_fanout
            )
            fanout_end, cpu_end = time.time(), cpu_seconds(servers, locust, front)
            log(
                f"diffusion sous la charge : {loaded['settled_count']}/{loaded['deliveries']} "
                f"envois en {loaded['seconds']:.1f} s"
            )
            if extra is not None:
                extras = await extra.finish(crisis_id)
        finally:
            locust.set_state(stop=True)
            locust.wait(timeout=60)
        samples = locust.samples()
        due_alerts = await alerts(database, [crisis_id, *alert_crises])
        if extra is not None and extra.kill_alert is not None and "kill" in extras:
            owed = await alerts(database, [extra.kill_alert[1]])
            at = extras["kill"]["killed_at"]
            earliest = sorted(owed, key=lambda a: a["due"])[:1]  # due 3 s after the COD call
            extras["kill"]["alert"] = report.alert_lateness(earliest, start=at - 600, end=at + 600)
        if extra is not None:
            windows = {"idle": (idle_start, fanout_start), "fanout": (fanout_start, fanout_end)}
            extras = report.everything(extras, samples, extra.desk.samples, windows)
        public_start, public_samples = time.time(), list[report.Sample]()
        if extra is None:
            public_start, public_samples = _public_phase(server, args, out, public_path)
    finally:
        if api is not None:
            await api.close()
        await database.dispose()

    warm = public_start + min(5.0, args.duration / 4)
    # Unfinished under load: the ratio of the rates (messages settled per second).
    alone_rate = alone["deliveries"] / max(alone["seconds"], 1e-9)
    ratio = (
        alone["seconds"] / loaded["seconds"] if loaded["settled"] else loaded["per_s"] / alone_rate
    )
    if extra is not None and "kill" in extras:
        # The instances share one sandbox, so one budget per account: after the kill the
        # survivor sends alone, compared with the whole unloaded fan-out's rate.
        kill = extras["kill"]
        after = loaded["seconds"] - (kill["killed_at"] - published_at.timestamp())
        kill["survivor_per_s"] = (loaded["settled_count"] - kill["settled_before"]) / max(after, 1)
        kill["survivor_ratio"] = kill["survivor_per_s"] / alone_rate
    return {
        "crisis_id": crisis_id,
        "bulletins": [first, second_bulletin],
        "everything": extras if extra is not None else None,
        "communes": len(communes),
        "pages_idle": report.summarise(samples, start=idle_start, end=fanout_start),
        "pages_fanout": report.summarise(samples, start=fanout_start, end=fanout_end),
        "logins": report.summarise(
            (s for s in samples if s.name == "login"), start=0, end=fanout_end
        ),
        "flux": report.summarise(  # the probe's streams opened during the fan-out
            (s for s in samples if s.name == "flux_first_byte"), start=fanout_start, end=fanout_end
        ),
        "fanout_unloaded": alone,
        "fanout_loaded": loaded,
        "fanout_ratio": ratio,
        "publish_idle_s": publish_idle,
        "publish_loaded_s": publish_loaded,
        "alerts": report.alert_lateness(due_alerts, start=idle_start, end=fanout_end),
        "alerts_during_fanout": report.alert_lateness(
            due_alerts, start=fanout_start, end=fanout_end
        ),
        "alerts_latest": [  # the three latest, seconds from the start of the load, to explain
            {"due_s": a["due"] - idle_start, "late_s": a["sent"] - a["due"]}
            for a in sorted(
                (a for a in due_alerts if a["sent"] is not None),
                key=lambda a: a["due"] - a["sent"],
            )[:3]
        ],
        "public": report.summarise(public_samples, start=warm, end=public_start + args.duration),
        "cores_fanout": {
            name: (cpu_end[name] - cpu_start[name]) / max(fanout_end - fanout_start, 1e-9)
            for name in cpu_start
        },
        "windows": {
            "idle_s": fanout_start - idle_start,
            "fanout_s": fanout_end - fanout_start,
        },
    }


def _public_phase(
    server: Server, args: argparse.Namespace, out: Path, public_path: str
) -> tuple[float, list[report.Sample]]:
    log(f"page publique : {args.public_clients} clients pendant {args.duration} s")
    reader = start_locust(
        "PublicReader",
        host=server.url,
        users=args.public_clients,
        out=out / "public-run",
        env={"LOAD_PUBLIC_PATH": public_path},
        run_time=f"{args.duration}s",
    )
    public_start = time.time()
    reader.wait(timeout=args.duration + 120)
    return public_start, reader.samples()


async def _everything(
    database: Database,
    api: Api,
    args: argparse.Namespace,
    hosts: everything.Hosts,
    crisis_id: int,
    communes: list[str],
    public_path: str,
) -> everything.Everything:
    """The CIP opened with its operators, the trainer's client, the public addresses."""
    tokens = await seed.operator_tokens(database, count=args.operators)
    desk = everything.CipDesk(hosts, crisis_id, tokens)
    await desk.open(api.clients["prefet"])
    return everything.Everything(
        database=database,
        hosts=hosts,
        desk=desk,
        trainer=api.clients["formateur"],
        communes=communes,
        participants=await seed.exercise_participants(database),
        public_paths={
            "public_bulletin": public_path,
            "public_list": "/public/bulletins",
            "public_feed": "/public/feed.atom",
        },
        rate=args.public_rate,
        kill_at=args.kill_at,
        kill_leader=args.kill == "leader",
    )


async def settled_of(database: Database, bulletin_id: int) -> tuple[int, int]:
    total, unsettled, _ = await progress(database, bulletin_id)
    return total, total - unsettled


def run_one(kind: str, args: argparse.Namespace, stamp: str) -> dict[str, Any]:
    out = args.out / f"{stamp}-{kind}"
    out.mkdir(parents=True, exist_ok=True)
    log(f"— {kind} — résultats dans {out}")
    with tempfile.TemporaryDirectory(prefix="tocsin-load-") as tmp:
        workdir = Path(tmp)
        with throwaway(kind, args.url, workdir) as db_url:
            load_before = os.getloadavg()
            several = args.everything and kind == "postgres" and args.instances > 1
            shared = start_shared_sandbox(workdir) if several else None
            server = start_server(workdir, db_url, web_processes=args.web_processes, sandbox=shared)
            second = front = None
            try:
                if several:
                    (workdir / "b").mkdir()
                    second = start_server(
                        workdir / "b", db_url, web_processes=args.web_processes, sandbox=shared
                    )
                if args.front == "nginx":
                    upstreams = [server.url] + ([second.url] if second else [])
                    front = start_nginx(workdir, upstreams)
                played = asyncio.run(play(server, args, workdir, out, second, front, shared))
            finally:
                if front is not None:
                    front.stop()
                    (out / "nginx-error.log").write_bytes((front.folder / "error.log").read_bytes())
                for one, name in ((server, "serve"), (second, "serve-b"), (shared, "sandbox")):
                    if one is not None:
                        one.stop()
                        (out / f"{name}-tail.log").write_bytes(one.log.read_bytes()[-200_000:])
    return {
        "database": "SQLite" if kind == "sqlite" else "PostgreSQL",
        "started": stamp,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "parameters": {
            "officials": args.officials,
            "users": args.users,
            "duration": args.duration,
            "public_clients": args.public_clients,
            "alert_crises": args.alert_crises,
            "web_processes": args.web_processes if kind == "postgres" else 1,
            "thresholds_min": THRESHOLDS,
            "everything": args.everything,
            "operators": args.operators,
            "public_rate": args.public_rate,
            "instances": args.instances if args.everything and kind == "postgres" else 1,
            "kill_at": args.kill_at,
            "kill": args.kill,
            "front": args.front,
        },
        **played,
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/load/run", description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--url", default=DEFAULT_PG, help="serveur PostgreSQL (base d'admin)")
    parser.add_argument("--officials", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--duration", type=int, default=60, help="secondes de charge au calme, et de page publique"
    )
    parser.add_argument("--public-clients", type=int, default=200)
    parser.add_argument("--alert-crises", type=int, default=5)
    parser.add_argument("--max-fanout", type=float, default=1800.0)
    parser.add_argument("--arrondissement", default="801")
    parser.add_argument(
        "--web-processes", type=int, default=1, help="processus web (PostgreSQL seulement)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument(
        "--everything",
        action="store_true",
        help="exercice, CIP, pages publiques et (PostgreSQL) une instance tuée (issue 22, 5)",
    )
    parser.add_argument("--operators", type=int, default=20, help="opérateurs CIP (--everything)")
    parser.add_argument("--public-rate", type=int, default=2000, help="req/s visées (--everything)")
    parser.add_argument(
        "--instances", type=int, default=2, help="instances sur PostgreSQL (--everything)"
    )
    parser.add_argument(
        "--kill-at", type=float, default=0.3, help="part de la diffusion réglée avant le SIGKILL"
    )
    parser.add_argument(
        "--kill", choices=("leader", "follower"), default="leader", help="l'instance tuée"
    )
    parser.add_argument(
        "--front",
        choices=("none", "nginx"),
        default="none",
        help="nginx devant les instances, avec deploy/nginx/tocsin-proxy.conf",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    ensure_locust()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = []
    for kind in kinds:
        result = run_one(kind, args, stamp)
        results.append(result)
        (args.out / f"{stamp}-{kind}.json").write_text(
            json.dumps(result, indent=2, default=str), encoding="utf-8"
        )
    table = report.markdown(results)
    (args.out / f"{stamp}.md").write_text(table, encoding="utf-8")
    print(table)
    return 0
