"""Launching a `crisis` drill for the whole département (issue 19: under 2 s).

    .venv/bin/python -m bench.exercises.launch_bench [--postgres postgresql://…]
        [--participants 300] [--repeats 5]

The Somme (771 communes) and the demo directory are loaded, then `--participants` exercise
participants (one e-mail address each) are written straight into the tables. A trainer plans
a `crisis` drill over all 771 communes with every participant, through the API. Measured:
`POST /api/v1/exercises/{id}/launch`, the production path — the request, its idempotency
record, `exercises.launching.launch_now` in one transaction (the exercise-mode crisis declared
over the 771 communes, its cell ordered and every participant paged, the start message to each
through the outbox, the journal), the 201/200 answer — `--repeats` times, each run stopped
(not timed) before the next. Compared with the raw limit on the same machine in the same
run: the same number of outbox deliveries inserted in one bare `INSERT`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlmodel import col, func, select

from bench import rows as bench_rows
from bench.databases import served_settings, throwaway
from contacts.directory import Contact, ContactChannel
from contacts.geography import Commune
from crisis import directory
from crisis.app import bootstrap
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.dispatch.rows import Delivery, OutboxMessage
from tests.support import FrozenClock, TestUser, make_user

KEY = "bench-participant:"


async def _participants(db: Database, count: int, now: datetime) -> list[int]:
    async with db.transaction() as session:
        conn = await session.connection()
        rows = [
            bench_rows.official(key=f"{KEY}{n}", last_name=f"JOUEUR {n}", first_name="", now=now)
            | {
                "audience": "exercise",
                "function": "participant_exercice",
                "area_level": "departement",
                "area_code": "80",
            }
            for n in range(count)
        ]
        await conn.execute(sa.insert(Contact), rows)
        query = sa.select(col(Contact.id)).where(col(Contact.key).like(f"{KEY}%"))
        ids = [int(i or 0) for i in (await conn.execute(query)).scalars()]
        channels = [
            {
                "contact_id": i,
                "kind": "email",
                "address": f"joueur{i}@exercice.test",
                "verified": True,
                "active": True,
                "preference": 0,
            }
            for i in ids
        ]
        await conn.execute(sa.insert(ContactChannel), channels)
    return ids


async def _communes(db: Database) -> list[str]:
    async with db.read() as session:
        return list((await session.exec(select(Commune.code).order_by(Commune.code))).all())


async def _outbox(db: Database, crisis_id: int) -> tuple[int, int, int]:
    """The crisis' outbox: (messages, deliveries, one message's id)."""
    async with db.read() as session:
        messages = select(func.count(), func.min(OutboxMessage.id)).where(
            OutboxMessage.crisis_id == crisis_id
        )
        deliveries = select(func.count()).where(Delivery.crisis_id == crisis_id)
        count, first = (await session.exec(messages)).one()
        return count, (await session.exec(deliveries)).one(), first or 0


async def _raw_limit(db: Database, message_id: int, count: int, now: datetime) -> float:
    """Seconds to insert `count` outbox deliveries in one bare statement and commit."""
    rows = [
        {
            "message_id": message_id,
            "purpose": "page",
            "audience": "exercise",
            "channel": "email",
            "address": f"brut{n}@exercice.test",
            "status": "cancelled",
            "idempotency_key": uuid.uuid4().hex,
            "created_at": now,
        }
        for n in range(count)
    ]
    started = time.perf_counter()
    async with db.transaction() as session:
        table = Delivery.__table__  # type: ignore[attr-defined]
        await (await session.connection()).execute(sa.insert(table), rows)
    return time.perf_counter() - started


async def _launches(
    db: Database,
    http: httpx.AsyncClient,
    trainer: TestUser,
    drill_id: int,
    clock: FrozenClock,
    repeats: int,
) -> tuple[list[float], list[float], tuple[int, int, int]]:
    """Seconds per launch request, elapsed and processor (all threads); what the last one
    wrote in the outbox (before its stop)."""
    spent, cpu, written = [], [], (0, 0, 0)
    for _ in range(repeats):
        started, processor = time.perf_counter(), time.process_time()
        launched = await http.post(f"/api/v1/exercises/{drill_id}/launch", headers=trainer.headers)
        spent.append(time.perf_counter() - started)
        cpu.append(time.process_time() - processor)
        assert launched.status_code in (200, 201), launched.text
        run_id, crisis_id = launched.json()["run_id"], launched.json()["crisis_id"]
        written = await _outbox(db, crisis_id)
        clock.advance(minutes=5)
        stop = await http.post(
            f"/api/v1/exercises/{drill_id}/runs/{run_id}/stop",
            headers=trainer.headers,
            json={"reason": "Fin de la mesure"},
        )
        assert stop.status_code == 200, stop.text
        clock.advance(minutes=5)
    return spent, cpu, written


async def main(postgres: str | None, participants: int, repeats: int) -> None:
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    async with throwaway(postgres, name="exercise_launch") as (db, url):
        await bootstrap.prepare(db, url)
        async with db.transaction() as session:
            await directory.load_demo(session, now=clock.now())
        people = await _participants(db, participants, clock.now())
        communes = await _communes(db)
        trainer = await make_user(db, clock, "formatrice", "trainer")
        settings = served_settings(url)
        app = create_app(settings, clock=clock, database=db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
            body = {
                "title": "Exercice départemental crue (banc)",
                "kind": "crisis",
                "playbook": "crue",
                "communes": communes,
                "participants": people,
                "starts_at": (clock.now() + timedelta(days=30)).isoformat(),
            }
            planned = await http.post("/api/v1/exercises", headers=trainer.headers, json=body)
            assert planned.status_code == 201, planned.text
            spent, cpu, (messages, deliveries, message_id) = await _launches(
                db, http, trainer, planned.json()["id"], clock, repeats
            )
        raw = await _raw_limit(db, message_id, deliveries, clock.now())
        print(
            f"{'PostgreSQL' if postgres else 'SQLite'} : {len(communes)} communes, "
            f"{len(people)} participants ; par lancement {messages} messages et "
            f"{deliveries} envois dans la boîte d'envoi"
        )
        print(
            f"lancement (POST …/launch) : médiane {statistics.median(spent) * 1000:.0f} ms, "
            f"max {max(spent) * 1000:.0f} ms sur {repeats} — objectif < 2 000 ms"
        )
        print("chaque lancement : " + ", ".join(f"{s * 1000:.0f}" for s in spent) + " ms")
        print(
            f"processeur par lancement (tous fils) : médiane {statistics.median(cpu) * 1000:.0f} ms"
            f", max {max(cpu) * 1000:.0f} ms"
        )
        print(f"limite brute : {deliveries} envois en un INSERT, {raw * 1000:.0f} ms")
        await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.postgres, args.participants, args.repeats))
