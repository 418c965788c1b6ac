"""Telegram: N messages to C chats through the production path, against the fake Bot API that
enforces 30 messages/s per bot, 1/s per chat and 20/min per group (in its own process, over
real HTTP).

    .venv/bin/python -m bench.channels.telegram_bench [--messages 1000] [--chats 50]

The path is the one production runs: the deliveries are written by ``outbox.enqueue`` as a
publication writes them, then the ``Dispatcher`` (built by ``dispatcher_from_config``, paced at
the limits ``channels.ratelimit`` declares for Telegram) claims them, sends them through the
Telegram adapter (python-telegram-bot) and records every outcome. The clock runs from the
first claim to the last recorded outcome; the outbox is a SQLite file of its own per order.

Two orders: each alert to every chat in turn ("alerte par alerte": one publication per alert),
and all the messages of one chat in a row ("discussion par discussion"). Ideal time: N / 30 s
(or the per-chat bound, one a second, when it is longer). A 429 leaves its delivery
``retrying``: the benchmark then runs passes until every delivery is settled, and counts it.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.channels.servers import telegram_server
from channels.config import ChannelsConfig, TelegramConfig
from channels.sandbox import TELEGRAM_TOKEN


def jobs(*, messages: int, chats: int, chat_major: bool) -> list[list[tuple[str, int]]]:
    """The publications, in order: each a list of (chat, alert number)."""
    per_chat = messages // chats
    ids = [str(10_000 + c) for c in range(chats)]
    if chat_major:
        return [[(chat, n)] for chat in ids for n in range(per_chat)]
    return [[(chat, n) for chat in ids] for n in range(per_chat)]


async def _enqueue(db: Any, publications: list[list[tuple[str, int]]]) -> None:
    from crisis.dispatch import outbox
    from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering

    now = datetime.now(UTC)
    async with db.transaction() as session:
        for publication in publications:
            n = publication[0][1]
            await outbox.enqueue(
                session,
                purpose=Purpose.BULLETIN,
                renderings=[Rendering(channel="telegram", text=f"Alerte {n} : crue de la Somme")],
                requests=[
                    DeliveryRequest(channel="telegram", address=chat, audience="officials")
                    for chat, _ in publication
                ],
                now=now,
                exercise=False,
            )


async def _statuses(db: Any) -> dict[str, int]:
    async with db.read() as session:
        connection = await session.connection()
        rows = await connection.execute(
            sa.text("SELECT status, count(*) FROM delivery GROUP BY status")
        )
        return {str(status): int(count) for status, count in rows.all()}


async def run(
    url: str, database: str, *, messages: int, chats: int, chat_major: bool
) -> dict[str, Any]:
    from crisis.app import bootstrap
    from crisis.app.db import Database
    from crisis.app.dispatch import dispatcher_from_config

    async with httpx.AsyncClient() as http:
        await http.delete(url + "/_sandbox/messages")
    db = Database.from_url(database)
    await bootstrap.prepare(db, database)
    publications = jobs(messages=messages, chats=chats, chat_major=chat_major)
    await _enqueue(db, publications)
    telegram = TelegramConfig(token=TELEGRAM_TOKEN, base_url=url + "/bot")
    worker = dispatcher_from_config(
        db=db, channels=ChannelsConfig(telegram=telegram), exercise_channels=ChannelsConfig()
    )
    start = time.perf_counter()
    report = await worker.run(datetime.now(UTC))
    elapsed = time.perf_counter() - start
    passes = 1
    while (await _statuses(db)).get("retrying", 0) and passes < 100:  # after a 429
        await asyncio.sleep(0.5)
        await worker.run(datetime.now(UTC))
        passes += 1
    await worker.aclose()
    statuses = await _statuses(db)
    await db.dispose()
    async with httpx.AsyncClient() as http:
        state = (await http.get(url + "/_sandbox/messages")).json()
    total = sum(len(p) for p in publications)
    ideal = max(total / 30.0, (total // chats - 1) * 1.0)
    return {
        "sent": total,
        "sent_first_pass": report.sent,
        "received": len(state["messages"]),
        "dropped": total - len(state["messages"]),
        "failed": statuses.get("failed", 0),
        "429": state["rate_limited"],
        "passes": passes,
        "seconds": elapsed,
        "ideal": ideal,
        "ratio": ideal / elapsed,
        "notes": state["notes"],
    }


def bench(*, messages: int, chats: int) -> dict[str, dict[str, Any]]:
    out = {}
    with telegram_server(TELEGRAM_TOKEN) as server, tempfile.TemporaryDirectory() as tmp:
        for label, chat_major in (
            ("alerte par alerte", False),
            ("discussion par discussion", True),
        ):
            database = f"sqlite:///{Path(tmp) / label[:6]}.db"
            result = asyncio.run(
                run(server.address, database, messages=messages, chats=chats, chat_major=chat_major)
            )
            out[label] = result
            print(
                f"{label:26} {int(result['received'])}/{int(result['sent'])} reçus en "
                f"{result['seconds']:.2f} s (idéal {result['ideal']:.2f} s) : ratio "
                f"{result['ratio']:.3f}, 429 reçus {int(result['429'])}, "
                f"perdus {int(result['dropped'])}, échecs {int(result['failed'])}"
            )
            for note in result["notes"][:10]:
                print("  429 :", note)
            time.sleep(1.1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=50)
    args = parser.parse_args()
    bench(messages=args.messages, chats=args.chats)


if __name__ == "__main__":
    main()
