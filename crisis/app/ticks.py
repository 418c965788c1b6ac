"""The clock tick, wired: settings to rules, one transaction per step and per batch."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from crisis.app.db import Database
from crisis.app.policies import alert_late_after, cip_rules, lifecycle_rules
from crisis.app.settings import Settings
from crisis.cell import clock_alerts, watch
from crisis.cip import pager

log = logging.getLogger("tocsin.clocks")
ALERT_BATCH = 500


async def send_alerts(
    db: Database, settings: Settings, *, now: datetime, catch_up: bool = False
) -> int:
    """Send every due alert, batch after batch, each batch in its own transaction."""
    total = 0
    while True:
        async with db.transaction() as session:
            sent = await clock_alerts.send_due(
                session,
                now=now,
                base_url=settings.base_url,
                catch_up=catch_up,
                late_after=alert_late_after(settings),
                limit=ALERT_BATCH,
            )
        total += len(sent)
        if len(sent) < ALERT_BATCH:
            return total


def clock_tick(db: Database, settings: Settings) -> Callable[[datetime], Awaitable[None]]:
    """The leader's tick: met clocks first (a met clock sends no alert), then pages, alerts."""
    rules, cip = lifecycle_rules(settings), cip_rules(settings)

    async def tick(now: datetime) -> None:
        async with db.transaction() as session:
            await watch.record_met(session, now=now)
        async with db.transaction() as session:
            await watch.escalate_pages(session, rules=rules, now=now)
        async with db.transaction() as session:
            await pager.escalate(session, rules=cip, now=now)
        sent = await send_alerts(db, settings, now=now)
        if sent:
            log.info("clock alerts sent", extra={"count": sent})

    return tick


def catch_up(db: Database, settings: Settings) -> Callable[[datetime], Awaitable[None]]:
    """At start: what came due while the service was down goes out now, marked late."""

    async def tick(now: datetime) -> None:
        async with db.transaction() as session:
            await watch.record_met(session, now=now)
        sent = await send_alerts(db, settings, now=now, catch_up=True)
        if sent:
            log.warning("clock alerts caught up at start", extra={"count": sent})

    return tick
