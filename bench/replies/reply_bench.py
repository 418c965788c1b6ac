"""Replies « OK »: the time to match and record one inbound SMS in a large directory.

    .venv/bin/python -m bench.replies.reply_bench [--contacts 99991] [--bulletins 3]
        [--replies 200] [--db sqlite|postgresql]

A real crisis, `--contacts` officials with one SMS number each, `--bulletins` published
bulletins asking a confirmation, each sent to every official (`sent`): contacts × bulletins
deliveries (a count prime to 10,000, so that no two deliveries of one official share a code,
see `crisis.bulletin.confirmations.reply_code`). Then `--replies` officials answer
« OK <code of their first delivery> », one transaction each (`crisis.replies.record`, as the
inbound endpoint does), and the latency of each is reported (median, 95th percentile, maximum).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bench import rows as bench_rows
from bench.contacts.common import scratch_database
from contacts.directory import Contact, ContactChannel
from crisis import replies
from crisis.app.db import Database
from crisis.bulletin.confirmations import reply_code
from crisis.bulletin.workflow import Bulletin
from crisis.cell.crises import Crisis
from crisis.dispatch.outbox import Delivery, OutboxMessage

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
BATCH = 5000


def _number(i: int) -> str:
    return f"+336{i:08d}"


async def _insert(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        async with db.transaction() as session:
            conn = await session.connection()
            await conn.execute(sa.insert(table), rows[start : start + BATCH])


async def _populate(db: Database, *, contacts: int, bulletins: int, now: datetime) -> int:
    async with db.transaction() as session:
        crisis = Crisis(
            title="Crue (banc d'essai)",
            kind="crue",
            mode="real",
            communes=["80001"],
            declared_at=now,
            declared_by="bench",
        )
        session.add(crisis)
        await session.flush()
        assert crisis.id is not None
        crisis_id = crisis.id
    people = range(1, contacts + 1)
    await _insert(
        db,
        Contact.__table__,  # type: ignore[attr-defined]
        [
            {
                "id": i,
                **bench_rows.official(
                    key=f"bench:{i}", last_name=f"MAIRE-{i}", first_name="Camille", now=now
                ),
            }
            for i in people
        ],
    )
    await _insert(
        db,
        ContactChannel.__table__,  # type: ignore[attr-defined]
        [
            {"contact_id": i, "kind": "sms", "address": _number(i), "verified": True}
            | {"active": True, "preference": 0}
            for i in people
        ],
    )
    for b in range(bulletins):
        async with db.transaction() as session:
            bulletin = Bulletin(
                crisis_id=crisis_id,
                title=f"Communiqué {b}",
                body="…",
                confirm_receipt=True,
                status="published",
                content_hash="0" * 64,
                author="bench",
                published_at=now,
                created_at=now,
                updated_at=now,
            )
            message = OutboxMessage(
                crisis_id=crisis_id, purpose="bulletin", channel="sms", text="…", created_at=now
            )
            session.add_all([bulletin, message])
            await session.flush()
            bulletin_id, message_id = bulletin.id, message.id
        await _insert(
            db,
            Delivery.__table__,  # type: ignore[attr-defined]
            [
                {
                    "id": b * contacts + i,
                    "message_id": message_id,
                    "crisis_id": crisis_id,
                    "bulletin_id": bulletin_id,
                    "purpose": "bulletin",
                    "audience": "officials",
                    "contact_id": i,
                    "recipient_name": f"Camille MAIRE-{i}",
                    "channel": "sms",
                    "address": _number(i),
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": None,  # sent: settled
                    "idempotency_key": uuid.uuid4().hex,
                    "provider_id": f"sms-{b}-{i}",
                    "sent_at": now,
                    "cascade_rank": 0,
                    "created_at": now + timedelta(seconds=b),
                }
                for i in people
            ],
        )
    return crisis_id


async def main(args: argparse.Namespace) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with scratch_database(POSTGRES if args.db == "postgresql" else None) as db:
        started = time.perf_counter()
        await _populate(db, contacts=args.contacts, bulletins=args.bulletins, now=now)
        setup = time.perf_counter() - started
        answering = random.Random(1).sample(range(1, args.contacts + 1), args.replies)
        latencies, outcomes = [], []
        for i in answering:
            reply = replies.InboundReply(
                channel="sms", sender=_number(i), text=f"OK {reply_code(i)}"
            )
            began = time.perf_counter()
            async with db.transaction() as session:
                result = await replies.record(
                    session,
                    reply=reply,
                    modes=frozenset({"real"}),
                    window=timedelta(hours=24),
                    now=now + timedelta(minutes=5),
                )
            latencies.append(time.perf_counter() - began)
            outcomes.append(result.outcome.value)
    latencies.sort()
    print(
        f"{args.db}: {args.contacts} contacts, {args.contacts * args.bulletins} deliveries "
        f"(set-up {setup:.1f} s); {args.replies} replies: "
        f"median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms; outcomes {sorted(set(outcomes))}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=99_991)
    parser.add_argument("--bulletins", type=int, default=3)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    asyncio.run(main(parser.parse_args()))
