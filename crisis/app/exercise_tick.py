"""The drills' leader-only tick, wired: due launches claimed and launched, finished runs ended,
due injects played.

Registered with the fenced database: each transaction checks the scheduler lease first, so
a paused leader never launches a drill another instance launched meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from crisis.app.db import Database
from crisis.app.policies import launch_rules
from crisis.app.settings import Settings
from exercises import ending, inject_reactions, launching

log = logging.getLogger("tocsin.exercises")


def exercise_tick(
    db: Database, settings: Settings, *, catch_up: bool = False
) -> Callable[[datetime], Awaitable[None]]:
    """At start (`catch_up`: what came due while down is marked late) and then every tick."""
    rules = launch_rules(settings)

    async def tick(now: datetime) -> None:
        async with db.transaction() as session:
            runs = await launching.launch_due(session, rules=rules, now=now, catch_up=catch_up)
        if runs:
            log.info("drills launched or marked missed", extra={"count": len(runs)})
        async with db.transaction() as session:
            await ending.end_finished(session, rules=rules, now=now)
        async with db.transaction() as session:
            played = await inject_reactions.tick(session, now=now)
        if played:
            log.info("drill injects played", extra={"count": played})

    return tick
