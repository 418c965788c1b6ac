"""The bulletins' leader-only tick, wired: cascades move on, unreached officials go to call;
on PostgreSQL the tracking counters' deltas are folded (`crisis.dispatch.tallies`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from crisis.app.db import Database
from crisis.app.policies import to_call_after
from crisis.app.settings import Settings
from crisis.bulletin import escalation
from crisis.dispatch import tallies

TICK_SECONDS = 5.0


def escalation_tick(db: Database, settings: Settings) -> Callable[[datetime], Awaitable[None]]:
    after = to_call_after(settings)

    async def tick(now: datetime) -> None:
        async with db.transaction() as session:
            await escalation.tick(session, now=now, to_call_after=after)
        if db.dialect == "postgresql":
            async with db.transaction() as session:
                await tallies.compact(await session.connection())

    return tick
