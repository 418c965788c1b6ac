"""Three `tocsin worker` processes on one PostgreSQL database, killed, stopped and frozen.

The bounded suite of issue 17 (items 1, 3 and 4), run by `.ci/run` on PostgreSQL (`-m
instances` selects it alone): intervals are shortened through `TOCSIN_*` settings and the
fan-outs are smaller than a whole département so that it stays near a minute and a half. The
full run, with the default intervals and the 2,159 deliveries of a whole département:

    TOCSIN_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432/postgres \
    TOCSIN_INSTANCES_DEFAULT_TIMINGS=1 TOCSIN_INSTANCES_FAN_OUT=2159 \
    TOCSIN_INSTANCES_CHATS=600 .venv/bin/pytest -m instances -s tests/crisis/app/test_instances.py

docs/operations.md gives its figures (printed with -s).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from channels.sandbox.smtp import SmtpFake
from channels.sandbox.telegram_api import TelegramFake
from crisis.app.db import Database
from crisis.dispatch.guarantees import guarantee
from tests.conftest import ON_POSTGRESQL
from tests.crisis.app.instances_support import (  # noqa: F401 (fixtures)
    DEFAULTS,
    HEARTBEAT,
    LEASE,
    Worker,
    alive,
    settled,
    start,
    telegram,
    wall_clock,
)
from tests.crisis.dispatch_support import emails, enqueue
from tests.crisis.lifecycle_support import ordered_crisis, roster
from tests.process_support import scalar, smtp, until  # noqa: F401 (smtp: a fixture)
from tests.support import FrozenClock

pytestmark = [
    pytest.mark.instances,
    pytest.mark.skipif(not ON_POSTGRESQL, reason="several instances need PostgreSQL"),
]
# The bulletin's e-mails, and the Telegram chats of the bot's limit test (CI: bounded).
FAN_OUT = int(os.environ.get("TOCSIN_INSTANCES_FAN_OUT", "600"))
CHATS = int(os.environ.get("TOCSIN_INSTANCES_CHATS", "150"))


async def _fan_out(
    db: Database, clock: FrozenClock, prefix: str, *, bulletin_id: int | None = None
) -> list[str]:
    addresses = emails(FAN_OUT, prefix=prefix)
    await enqueue(db, now=clock.now(), addresses=addresses, bulletin_id=bulletin_id)
    return addresses


async def test_a_rolling_restart_and_a_crash_of_one_of_three_workers_delay_a_fan_out_by_seconds(
    db: Database,
    clock: FrozenClock,
    smtp: SmtpFake,  # noqa: F811
    start: Callable[[], asyncio.Future[Worker]],  # noqa: F811
) -> None:
    workers = [await start() for _ in range(3)]
    await until(lambda: alive(db, 3), timeout=60)
    await _fan_out(db, clock, "calme")
    undisturbed = await until(lambda: settled(db), timeout=90)
    # A rolling restart: one worker stopped mid fan-out (SIGTERM), a new one started.
    stopped = await _disturbed(db, clock, smtp, workers.pop(0), signal.SIGTERM, undisturbed)
    workers.append(await start())
    await until(lambda: alive(db, 3), timeout=60)
    # A crash: one of the three killed mid fan-out (SIGKILL).
    killed = await _disturbed(db, clock, smtp, workers.pop(0), signal.SIGKILL, undisturbed)
    print(
        f"3 workers, {FAN_OUT} e-mails: undisturbed {undisturbed:.1f} s, with a SIGTERM"
        f" {stopped:.1f} s, with a SIGKILL {killed:.1f} s;"
        f" {smtp.state.delivered_twice} sent twice (same Message-ID)"
    )
    assert stopped <= undisturbed + 10, (undisturbed, stopped)
    assert killed <= undisturbed + 10, (undisturbed, killed)
    assert await scalar(db, "SELECT count(*) FROM delivery WHERE status <> 'sent'") == 0
    assert all(w.process.returncode is None for w in workers)
    # The killed worker's sends in flight: the journal states the e-mail's window for the bulletin
    journaled = (
        "SELECT payload FROM journal_entry"
        " WHERE action = 'bulletin.sends_interrupted' AND payload LIKE :bulletin"
    )
    bulletin = f'{{"bulletin_id":{signal.SIGKILL.value},%'
    payload = json.loads(str(await scalar(db, journaled, bulletin=bulletin)))
    assert payload["channels"][0]["guarantee"] == guarantee("email")


async def _disturbed(
    db: Database,
    clock: FrozenClock,
    smtp: SmtpFake,  # noqa: F811
    victim: Worker,
    sig: signal.Signals,
    undisturbed: float,
) -> float:
    """Seconds to settle a fan-out during which ``victim`` gets ``sig``; checks none is lost,
    and after a SIGTERM that the worker gave back its claims before it exited."""
    sent_before = len(smtp.state.received)
    addresses = await _fan_out(db, clock, sig.name.lower(), bulletin_id=sig.value)
    began = time.monotonic()
    await until(lambda: len(smtp.state.received) >= sent_before + FAN_OUT // 5, timeout=60)
    if sig == signal.SIGKILL:  # killed with sends under way, whose outcome is then unknown
        await until(lambda: _frozen_holding_sends(db, victim), timeout=30, every=0.01)
    victim.signal(sig)
    if sig == signal.SIGTERM:
        stopping = time.monotonic()
        assert await asyncio.wait_for(victim.process.wait(), 15) == 0
        print(f"SIGTERM: exited in {time.monotonic() - stopping:.1f} s")
        assert await scalar(db, HELD, name=victim.name) == 0  # nothing waits for a lease
        stopped = "SELECT stopped_at IS NOT NULL FROM dispatch_instance WHERE name = :name"
        assert await scalar(db, stopped, name=victim.name)
    await until(lambda: settled(db), timeout=undisturbed + 10 + 30)
    assert set(addresses) <= {m.recipient for m in smtp.state.received}  # none lost
    return time.monotonic() - began


HELD = (
    "SELECT count(*) FROM delivery d JOIN dispatch_instance i ON i.id = d.claimed_by"
    " WHERE d.status = 'sending' AND i.name = :name"
)


async def _frozen_holding_sends(db: Database, victim: Worker) -> bool:
    """Freezes ``victim``; True if it holds sends under way, else it is let go again."""
    victim.signal(signal.SIGSTOP)
    if await scalar(db, HELD, name=victim.name):
        return True
    victim.signal(signal.SIGCONT)
    return False


async def test_a_frozen_leader_is_replaced_and_sends_nothing_once_resumed(
    db: Database,
    clock: FrozenClock,
    start: Callable[[], asyncio.Future[Worker]],  # noqa: F811
) -> None:
    workers = [await start() for _ in range(3)]
    await until(lambda: alive(db, 3), timeout=60)
    holder = (
        "SELECT i.name FROM scheduler_lease l JOIN dispatch_instance i ON i.id = l.holder"
        " WHERE l.expires_at > now()"
    )
    await until(lambda: scalar(db, holder), timeout=10)
    leader_name = await scalar(db, holder)
    leader = next(w for w in workers if w.name == leader_name)
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        await ordered_crisis(session, now=clock.now())
        # The 30-minute alert of every clock comes due 2 s after the leader froze.
        await session.execute(
            sa.text(
                "UPDATE clock_alert SET due_at = now() + interval '2 seconds'"
                " WHERE threshold_min = 30"
            )
        )
    leader.signal(signal.SIGSTOP)
    frozen = time.monotonic()
    taken_over = await until(lambda: _new_holder(db, holder, leader_name), timeout=10)
    print(f"SIGSTOP: leadership taken over {taken_over:.1f} s after the freeze")
    assert taken_over <= 10
    sent = "SELECT count(*) FROM clock_alert WHERE threshold_min = 30 AND sent_at IS NOT NULL"
    expected = await scalar(db, "SELECT count(*) FROM clock_alert WHERE threshold_min = 30")
    await until(lambda: _count_is(db, sent, expected), timeout=10)
    await asyncio.sleep(max(0.0, (12 if DEFAULTS else 2 * LEASE) - (time.monotonic() - frozen)))
    leader.signal(signal.SIGCONT)
    await asyncio.sleep(2 * HEARTBEAT + 1)  # the old leader runs its ticks again, if it may
    assert leader.process.returncode is None
    duplicates = (
        "SELECT count(*) FROM (SELECT address, channel FROM delivery WHERE purpose ="
        " 'clock_alert' GROUP BY address, channel, message_id HAVING count(*) > 1) AS d"
    )
    assert await scalar(db, duplicates) == 0
    late = "SELECT max(sent_at - due_at) FROM clock_alert WHERE threshold_min = 30"
    lateness = await scalar(db, late)
    assert isinstance(lateness, timedelta) and lateness < timedelta(seconds=10)
    print(f"SIGSTOP: the alert left {lateness.total_seconds():.1f} s after its due time")


async def _new_holder(db: Database, query: str, old: object) -> bool:
    name = await scalar(db, query)
    return name is not None and name != old


async def _count_is(db: Database, query: str, expected: object) -> bool:
    return await scalar(db, query) == expected


async def test_three_workers_keep_the_bots_thirty_a_second_and_fan_out_as_fast_as_one(
    db: Database,
    clock: FrozenClock,
    telegram: tuple[TelegramFake, str],  # noqa: F811
    start: Callable[[], asyncio.Future[Worker]],  # noqa: F811
) -> None:
    fake = telegram[0]
    workers = [await start()]
    await until(lambda: alive(db, 1), timeout=60)
    one = await _telegram_fan_out(db, clock, first_chat=10_000)
    refused_by_one = fake.state.rate_limited
    workers += [await start(), await start()]
    await until(lambda: alive(db, 3), timeout=60)
    await asyncio.sleep(1.1)  # the fake's one-second window empties
    three = await _telegram_fan_out(db, clock, first_chat=20_000)
    print(
        f"Telegram, {CHATS} chats: one worker {one:.1f} s, three workers {three:.1f} s,"
        f" {fake.state.rate_limited} refusals (429, {refused_by_one} with one),"
        f" {fake.state.delivered_twice} sent twice"
    )
    assert fake.state.rate_limited == 0
    assert len(fake.state.received) == 2 * CHATS
    assert three <= one * 1.1 + 0.5, (one, three)  # the bot's limit, not one process', paces it
    assert all(w.process.returncode is None for w in workers)


async def _telegram_fan_out(db: Database, clock: FrozenClock, *, first_chat: int) -> float:
    """Seconds from the bulletin's enqueueing to its last delivery settled."""
    chats = [str(first_chat + n) for n in range(CHATS)]
    clock.current = datetime.now(UTC)
    await enqueue(db, now=clock.now(), channel="telegram", addresses=chats)
    # Read seldom: the fake stamps each request as this process' loop reads it, and a busy
    # loop would bunch the stamps of requests sent on time.
    return await until(lambda: settled(db), timeout=CHATS / 10 + 30, every=0.2)
