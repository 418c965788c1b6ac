"""The load benchmark's pieces that run without locust nor a server (tiny sizes; the figures
are in docs/benchmarks.md): its stage (officials, users) and its report."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.load import report, seed
from contacts.directory import Contact, ContactChannel
from contacts.importer import ImportFormat, import_contacts
from crisis.app.db import Database
from tests.support import FrozenClock

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_the_stage_imports_its_officials_into_the_arrondissement_with_an_email_each(
    db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    communes = await seed.communes_of(db, arrondissement="801")
    assert len(communes) > 100 and "80001" in communes
    path = tmp_path / "elus.csv"
    seed.write_officials(path, communes=communes[:3], count=7)
    async with db.transaction() as session:
        with path.open("rb") as data:
            imported = await import_contacts(
                session, stream=data, fmt=ImportFormat.TOCSIN, now=clock.now()
            )
    assert imported.ok and imported.added == 7
    contacts, channels = Contact.__table__, ContactChannel.__table__  # type: ignore[attr-defined]
    async with db.transaction() as session:
        conn = await session.connection()
        rows = (
            await conn.execute(
                sa.select(contacts.c.area_code, channels.c.kind, channels.c.address).join(
                    channels, channels.c.contact_id == contacts.c.id
                )
            )
        ).all()
    assert {row.area_code for row in rows} == set(communes[:3])
    assert all(row.kind == "email" and row.address.endswith("@charge.tocsin.test") for row in rows)
    assert len(rows) == 7


async def test_the_stage_users_log_in_with_their_password_straight_to_the_dashboard(
    db: Database, client: httpx.AsyncClient
) -> None:
    watchers = await seed.create_watchers(db, count=2)
    assert [w.login for w in watchers] == ["charge-00", "charge-01"]
    for watcher in watchers:
        found = _CSRF.search((await client.get("/connexion")).text)
        assert found is not None
        answer = await client.post(
            "/connexion",
            data={"login": watcher.login, "password": watcher.password, "csrf_token": found[1]},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        # Not sent to choose a password first: the locust users go straight to the pages.
        dashboard = await client.get("/")
        assert dashboard.status_code == 200, dashboard.headers.get("location")
        client.cookies.clear()


def test_the_report_splits_the_requests_by_phase_and_gives_the_issue_table(
    tmp_path: Path,
) -> None:
    log = tmp_path / "requests.csv"
    lines = ["start,name,ms,ok"]
    lines += [f"{100 + n / 10:.3f},dashboard,{n + 1}.0,1" for n in range(100)]  # idle, 1..100 ms
    lines += [f"{200 + n / 10:.3f},dashboard,{1000 + n}.0,1" for n in range(10)]  # fan-out
    lines += ["205.000,tracking,50.0,0"]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    samples = report.read_log(log)

    idle = report.summarise(samples, start=100, end=200)
    fanout = report.summarise(samples, start=200, end=210)
    assert idle["dashboard"]["count"] == 100
    assert (idle["dashboard"]["p50_ms"], idle["dashboard"]["p95_ms"]) == (50.0, 95.0)
    assert idle["dashboard"]["p99_ms"] == 99.0 and idle["dashboard"]["per_s"] == 1.0
    assert fanout["dashboard"]["p50_ms"] == 1004.0 and fanout["tracking"]["errors"] == 1

    alerts = report.alert_lateness(
        [{"due": 150.0, "sent": 150.5}, {"due": 160.0, "sent": None}, {"due": 90.0, "sent": 99.0}],
        start=100,
        end=210,
    )
    assert alerts["due"] == 2 and alerts["unsent"] == 1 and alerts["p99_s"] == 0.5

    empty = {"count": 0, "errors": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None}
    result = {
        "database": "SQLite",
        "parameters": {"users": 50, "public_clients": 200},
        "pages_idle": idle,
        "pages_fanout": fanout,
        "flux": {},
        "fanout_unloaded": {"deliveries": 10464, "seconds": 204.0},
        "fanout_loaded": {"deliveries": 10464, "settled": True, "seconds": 510.0},
        "fanout_ratio": 0.4,
        "publish_idle_s": 0.58,
        "publish_loaded_s": 8.7,
        "alerts": alerts,
        "public": {"public_bulletin": empty | {"per_s": 213.0, "p50_ms": 900.0, "p99_ms": 2400.0}},
        "load_before": (1.0, 1.0, 1.0),
        "load_after": (9.5, 5.0, 2.0),
    }
    table = report.markdown([result])
    assert table.startswith("| | SQLite |")
    assert "| pages, 50 utilisateurs, au calme (p50 / p95 / p99) | tableau de bord 0,05" in table
    assert "10\u202f464 envois : 204,0 s → 510,0 s (**0,40**)" in table
    assert "| appel de publication (API), au calme → sous la charge | 0,58 → 8,70 s |" in table
    assert "`/public/bulletins/{public_id}`, 200 clients | 213 req/s, p50 0,90 s" in table
    assert "1 erreurs sur 111 requêtes" not in table and "1 sur 111 requêtes" in table
