"""One Telegram bot, one to three instances: the bot's 30 messages a second are the bot's.

    .venv/bin/python -m bench.channels.shared_budget_bench \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres [--chats 600] [--rounds 2]

Each instance is a ``Dispatcher`` built by ``dispatcher_from_config`` with rate limiters of
its own, as a separate process has; on PostgreSQL they share the account's budget
(``crisis.dispatch.budget``), ``--per-process`` gives each its own buckets only (before issue
17). They fan out one bulletin to ``chats`` distinct chats of the Telegram fake over real HTTP;
the fake refuses (429) a 31st message in any second, counted. Time: from the first claim to
the last recorded outcome of the first pass, refused deliveries left ``retrying``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from channels.config import ChannelsConfig
from channels.ratelimit import RateLimiters
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.dispatch import outbox
from crisis.dispatch.dispatcher import DispatchTuning
from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering


@dataclass(frozen=True, slots=True)
class FanOut:
    instances: int
    chats: int
    seconds: float
    sent: int
    refused: int  # 429 from the fake

    def line(self) -> str:
        return (
            f"{self.instances} instance(s), {self.chats} chats : {self.seconds:.2f} s, "
            f"{self.sent} envoyés, {self.refused} refus 429"
        )


async def fan_out(
    db: Database, sandbox: Sandbox, *, instances: int, chats: int, per_process: bool = False
) -> FanOut:
    """One bulletin to ``chats`` chats, sent by ``instances`` dispatchers at once."""
    now = datetime.now(UTC)
    async with db.transaction() as session:
        await outbox.enqueue(
            session,
            purpose=Purpose.BULLETIN,
            renderings=[Rendering(channel="telegram", text="Crue de la Somme : évacuation.")],
            requests=[
                DeliveryRequest(channel="telegram", address=str(20_000 + c), audience="officials")
                for c in range(chats)
            ],
            now=now,
            exercise=False,
        )
    state = sandbox.telegram.state
    before_sent, before_refused = len(state.received), state.rate_limited
    # small claims, so that every instance has its share of the bulletin in hand at once
    tuning = DispatchTuning(claim_size=25, window=50, record_size=25)
    config = ChannelsConfig(telegram=sandbox.config().telegram)
    dispatchers = [
        dispatcher_from_config(
            db=db,
            channels=config,
            exercise_channels=ChannelsConfig(),
            tuning=tuning,
            limiters=RateLimiters() if per_process else None,
        )
        for _ in range(instances)
    ]
    started = time.monotonic()
    try:
        await asyncio.gather(*(d.run(now) for d in dispatchers))
    finally:
        for dispatcher in dispatchers:
            await dispatcher.aclose()
    return FanOut(
        instances=instances,
        chats=chats,
        seconds=time.monotonic() - started,
        sent=len(state.received) - before_sent,
        refused=state.rate_limited - before_refused,
    )


async def _bench(postgres: str, *, chats: int, rounds: int, per_process: bool) -> None:
    from bench.databases import throwaway
    from crisis.app import bootstrap

    async with throwaway(postgres, name="budget") as (db, url), Sandbox() as sandbox:
        await bootstrap.prepare(db, url)
        for _ in range(rounds):
            for instances in (1, 3):
                result = await fan_out(
                    db, sandbox, instances=instances, chats=chats, per_process=per_process
                )
                print(result.line(), flush=True)
                await asyncio.sleep(1.1)  # the fake's window empties between runs
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--chats", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--per-process", action="store_true")
    args = parser.parse_args()
    asyncio.run(
        _bench(args.postgres, chats=args.chats, rounds=args.rounds, per_process=args.per_process)
    )


if __name__ == "__main__":
    main()
