"""Three `tocsin worker` on one PostgreSQL under seeded random kills and pauses (issue 22 item 4).

During a fan-out and with the 30-minute alert of every clock coming due, ``TOCSIN_CHAOS_HITS``
(default 3) seeded hits each SIGKILL (a new worker then starts) or SIGSTOP (resumed after a
lease) a random worker; a hit on the leader measures how long until another leads. At the end:
every delivery sent and none lost, each clock alert sent exactly once, and a resend only
within the e-mail's declared window (same Message-ID).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from channels.sandbox.smtp import SmtpFake
from crisis.app.db import Database
from tests.chaos.support import NEEDS_POSTGRES
from tests.crisis.app.instances_support import (  # noqa: F401 (fixtures)
    LEASE,
    Worker,
    alive,
    start,
    telegram,
    wall_clock,
)
from tests.crisis.dispatch_support import emails, enqueue
from tests.crisis.lifecycle_support import ordered_crisis, roster
from tests.process_support import UNSETTLED, scalar, until
from tests.support import FrozenClock

pytestmark = [pytest.mark.chaos, NEEDS_POSTGRES]  # several instances, or its own cluster
HITS = int(os.environ.get("TOCSIN_CHAOS_HITS", "3"))
FAN_OUT = int(os.environ.get("TOCSIN_CHAOS_FAN_OUT", "300"))
SEED = int(os.environ.get("TOCSIN_CHAOS_SEED", "22"))
HOLDER = (
    "SELECT i.name FROM scheduler_lease l JOIN dispatch_instance i ON i.id = l.holder"
    " WHERE l.expires_at > now()"
)


async def test_three_workers_hit_by_random_kills_and_pauses_lose_nothing_and_alert_once(
    db: Database,
    clock: FrozenClock,
    smtp: SmtpFake,
    start: Callable[[], asyncio.Future[Worker]],  # noqa: F811
) -> None:
    rng = random.Random(SEED)
    workers = [await start() for _ in range(3)]
    await until(lambda: alive(db, 3), timeout=60)
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        await ordered_crisis(session, now=clock.now())
        await session.execute(
            sa.text(
                "UPDATE clock_alert SET due_at = now() + interval '2 seconds'"
                " WHERE threshold_min = 30"
            )
        )
    addresses = emails(FAN_OUT, prefix="chaos")
    await enqueue(db, now=clock.now(), addresses=addresses)
    failovers: list[float] = []
    for _ in range(HITS):
        await asyncio.sleep(rng.uniform(0.2, 1.5))
        victim = workers.pop(rng.randrange(len(workers)))
        leader = await scalar(db, HOLDER) == victim.name
        how = rng.choice([signal.SIGKILL, signal.SIGSTOP])
        victim.signal(how)
        hit = time.monotonic()
        if leader:
            failovers.append(await until(lambda v=victim: _led_by_other(db, v), timeout=15))
        if how == signal.SIGSTOP:
            await asyncio.sleep(max(0.0, LEASE + 1 - (time.monotonic() - hit)))
            victim.signal(signal.SIGCONT)
            workers.append(victim)
        else:
            workers.append(await start())
    await until(lambda: _unsettled_is_zero(db), timeout=120, every=0.2)
    twice = (
        "SELECT count(*) FROM (SELECT address FROM delivery WHERE purpose = 'clock_alert'"
        " GROUP BY address, channel, message_id HAVING count(*) > 1) AS d"
    )
    unsent = "SELECT count(*) FROM clock_alert WHERE threshold_min = 30 AND sent_at IS NULL"
    print(
        f"{HITS} hits (seed {SEED}) on 3 workers, {FAN_OUT} e-mails: failovers"
        f" {[round(f, 1) for f in failovers]} s, {smtp.state.delivered_twice} sent twice"
        " (same Message-ID)"
    )
    assert all(f <= 10 for f in failovers), failovers
    assert set(addresses) <= {m.recipient for m in smtp.state.received}  # none lost
    failed = "SELECT count(*) FROM delivery WHERE status = 'failed' AND purpose = 'bulletin'"
    assert await scalar(db, failed) == 0
    assert await scalar(db, twice) == 0
    assert await scalar(db, unsent) == 0
    keys = {(m.recipient, m.key) for m in smtp.state.received if m.recipient in addresses}
    assert len(keys) == len(addresses)  # a resend only under the same Message-ID


async def _led_by_other(db: Database, victim: Worker) -> bool:
    name = await scalar(db, HOLDER)
    return name is not None and name != victim.name


async def _unsettled_is_zero(db: Database) -> bool:
    return await scalar(db, UNSETTLED) == 0
