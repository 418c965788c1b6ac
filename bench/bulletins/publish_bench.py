"""Publish one bulletin to N officials (default 10,000): time of the publishing transaction.

.venv/bin/python -m bench.bulletins.publish_bench [--db URL] [--officials N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col

from bench import rows as bench_rows
from contacts.directory import Contact, ContactChannel
from crisis.actors import SYSTEM
from crisis.app import bootstrap
from crisis.app.db import Database
from crisis.bulletin import publication
from crisis.bulletin import workflow as bulletins
from crisis.bulletin.workflow import ChannelPolicy, Draft
from crisis.cell import crises
from crisis.vocabulary import CrisisMode

BODY = """Situation : la Somme déborde à Abbeville.
Communes concernées : Abbeville.
Consignes : ne vous engagez pas sur les routes inondées.
Pour en savoir plus : https://www.somme.gouv.fr.
Prochain point : 18 h."""


async def run(url: str, officials: int) -> None:
    db = Database.from_url(url)
    await bootstrap.prepare(db, url)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        conn = await session.connection()
        rows = [
            bench_rows.official(key=f"bench:{n}", last_name=f"ÉLU {n}", first_name="", now=now)
            for n in range(officials)
        ]
        await conn.execute(sa.insert(Contact), rows)
        ids = (
            await conn.execute(sa.select(col(Contact.id)).where(col(Contact.key).like("bench:%")))
        ).scalars()
        await conn.execute(
            sa.insert(ContactChannel),
            [
                {
                    "contact_id": i,
                    "kind": "email",
                    "address": f"elu{i}@bench.test",
                    "verified": True,
                    "active": True,
                    "preference": 0,
                }
                for i in ids
            ],
        )
        crisis = await crises.declare(
            session,
            actor=SYSTEM,
            title="Banc d'essai",
            kind="crue",
            mode=CrisisMode.REAL,
            communes=["80001"],
            now=now,
        )
        policy = ChannelPolicy()
        draft = Draft(
            title="Crue à Abbeville", body=BODY, audiences=["officials"], channels=["email"]
        )
        assert crisis.id is not None
        bulletin = await bulletins.create(
            session, actor=SYSTEM, crisis_id=crisis.id, draft=draft, policy=policy, now=now
        )
        assert bulletin.id is not None
        await bulletins.submit(
            session, actor=SYSTEM, bulletin_id=bulletin.id, policy=policy, now=now
        )
        await bulletins.approve(session, actor=SYSTEM, bulletin_id=bulletin.id, now=now)
    started = time.perf_counter()
    async with db.transaction() as session:
        done = await publication.publish(
            session, actor=SYSTEM, bulletin_id=bulletin.id, policy=policy, now=now
        )
    elapsed = time.perf_counter() - started
    print(f"{db.dialect}: {done.deliveries} envois écrits en {elapsed:.2f} s")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    parser.add_argument("--officials", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.db or f"sqlite:///{tmp}/bench.db", args.officials))


if __name__ == "__main__":
    main()
