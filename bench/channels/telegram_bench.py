"""Telegram: N messages to C chats through PacedChannel, against the fake Bot API that
enforces 30 messages/s per bot and 1/s per chat (in its own process).

    .venv/bin/python -m bench.channels.telegram_bench [--messages 1000] [--chats 50]

Two orders: each alert to every chat in turn ("alerte par alerte"), and all the messages
of one chat in a row ("discussion par discussion"). Ideal time: N / 30 s (or the per-chat
bound when it is longer).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx
from channels.scheduler import PacedChannel

from bench.channels.servers import telegram_server
from channels.base import Message, Recipient
from channels.config import TelegramConfig
from channels.kinds import ChannelKind
from channels.ratelimit import TokenBucket
from channels.sandbox import TELEGRAM_TOKEN
from channels.telegram import TelegramChannel

RATE = TelegramConfig().rate_per_second  # our overall bucket, a little under 30/s
CHAT_INTERVAL = TelegramConfig().chat_interval


def jobs(*, messages: int, chats: int, chat_major: bool) -> list[tuple[str, int]]:
    per_chat = messages // chats
    ids = [str(10_000 + c) for c in range(chats)]
    if chat_major:
        return [(chat, n) for chat in ids for n in range(per_chat)]
    return [(chat, n) for n in range(per_chat) for chat in ids]


async def run(url: str, *, messages: int, chats: int, chat_major: bool) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        await http.delete(url + "/_sandbox/messages")
    channel = TelegramChannel(TelegramConfig(token=TELEGRAM_TOKEN, base_url=url + "/bot"))
    paced = PacedChannel(
        channel,
        overall=TokenBucket(rate=RATE),
        recipient_interval=CHAT_INTERVAL,
        window=(30, 1.0),  # as registry.pace() builds it: Telegram refuses a 31st in 1 s
    )
    work = jobs(messages=messages, chats=chats, chat_major=chat_major)
    start = time.perf_counter()
    results = await asyncio.gather(
        *(
            paced.send(
                Message(text=f"Alerte {n} : crue de la Somme", idempotency_key=f"{chat}/{n}"),
                Recipient(kind=ChannelKind.TELEGRAM, address=chat),
            )
            for chat, n in work
        ),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - start
    await paced.aclose()
    async with httpx.AsyncClient() as http:
        state = (await http.get(url + "/_sandbox/messages")).json()
    failed = sum(1 for r in results if isinstance(r, BaseException))
    per_chat = len(work) // chats
    ideal = max(len(work) / 30.0, (per_chat - 1) * 1.0)
    return {
        "sent": len(work),
        "received": len(state["messages"]),
        "dropped": len(work) - len(state["messages"]),
        "failed": failed,
        "429": state["rate_limited"],
        "seconds": elapsed,
        "ideal": ideal,
        "ratio": ideal / elapsed,
        "notes": state["notes"],
    }


def bench(*, messages: int, chats: int) -> dict[str, dict[str, Any]]:
    out = {}
    with telegram_server(TELEGRAM_TOKEN) as server:
        for label, chat_major in (
            ("alerte par alerte", False),
            ("discussion par discussion", True),
        ):
            result = asyncio.run(
                run(server.address, messages=messages, chats=chats, chat_major=chat_major)
            )
            out[label] = result
            print(
                f"{label:26} {int(result['received'])}/{int(result['sent'])} reçus en "
                f"{result['seconds']:.2f} s (idéal {result['ideal']:.2f} s) : ratio "
                f"{result['ratio']:.3f}, 429 reçus {int(result['429'])}, "
                f"perdus {int(result['dropped'])}, échecs {int(result['failed'])}"
            )
            for note in result["notes"]:
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
