"""A provider's limits are the account's: instances sharing a database share its budget.

The arithmetic runs on a manual clock; the database's budget and the three instances need
PostgreSQL (SQLite serves one instance, whose buckets in memory are the whole limit).
"""

from __future__ import annotations

import asyncio

import pytest

from bench.channels.shared_budget_bench import fan_out
from channels.ratelimit import (
    MemoryBudget,
    ProviderLimits,
    RateLimiters,
    SharedSlots,
    Sleep,
    reserve_slots,
)
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.dispatch.budget import DatabaseBudget, shared_limiters
from crisis.dispatch.pacing import Pacer, build_pacer
from tests.channels.conftest import ManualClock


def test_a_reservation_takes_consecutive_slots_from_the_later_of_the_schedule_and_now() -> None:
    tat, delay = reserve_slots(None, 100.0, rate=10.0, capacity=1.0, count=5)
    assert (tat, delay) == (100.5, 0.0)
    tat, delay = reserve_slots(tat, 100.1, rate=10.0, capacity=1.0, count=5)
    assert tat == pytest.approx(101.0)
    assert delay == pytest.approx(0.4)  # its first slot follows the five taken before
    tat, delay = reserve_slots(tat, 200.0, rate=10.0, capacity=1.0, count=1)
    assert (tat, delay) == (200.1, 0.0)  # an idle account does not bank slots


def test_a_burst_lets_the_first_slots_of_an_idle_account_go_at_once() -> None:
    _, delay = reserve_slots(None, 0.0, rate=50.0, capacity=50.0, count=10)
    assert delay == pytest.approx(-49 / 50)


def manual(clock: ManualClock) -> RateLimiters:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return RateLimiters(clock=clock, sleep=sleep, budget=MemoryBudget(clock))


async def test_three_processes_sharing_a_budget_never_exceed_the_accounts_rate() -> None:
    clock = ManualClock()
    budget = MemoryBudget(clock)
    sent: list[float] = []

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)
        clock.advance(seconds)

    processes = [
        SharedSlots(budget, "telegram:abc", rate=10.0, chunk=3, clock=clock, sleep=sleep)
        for _ in range(3)
    ]

    async def send(slots: SharedSlots) -> None:
        for _ in range(20):
            await slots.acquire(wanted=20)
            sent.append(clock())

    await asyncio.gather(*(send(slots) for slots in processes))
    assert len(sent) == 60
    ordered = sorted(sent)
    # at most 10 in any second, however the three processes interleave
    assert max(sum(1 for t in ordered if start <= t < start + 1.0) for start in ordered) <= 10
    assert ordered[-1] - ordered[0] >= 5.9  # 60 sends at 10 a second: six seconds at least


async def test_a_slot_left_unused_past_its_instant_is_dropped_not_spent_late() -> None:
    clock = ManualClock()
    limiters = manual(clock)
    slots = limiters.shared("telegram:abc", rate=10.0)
    assert slots is not None
    await slots.acquire(wanted=3)  # reserves three slots: now, +0.1, +0.2
    clock.advance(1.0)  # the two others pass unused
    await slots.acquire()
    assert slots.dropped == 2
    assert slots.reservations == 2


def test_the_same_account_gives_one_share_per_process() -> None:
    limiters = manual(ManualClock())
    assert limiters.shared("telegram:abc", rate=10.0) is limiters.shared("telegram:abc", rate=10.0)
    assert RateLimiters().shared("telegram:abc", rate=10.0) is None


def test_sqlite_keeps_the_buckets_of_its_single_instance(db: Database) -> None:
    limiters = shared_limiters(db)
    if db.dialect == "postgresql":
        assert isinstance(limiters.budget, DatabaseBudget)
    else:
        assert limiters.budget is None


def _needs_postgres(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("several instances share a budget on PostgreSQL only")


async def test_the_database_budget_hands_out_consecutive_slots_on_its_own_clock(
    db: Database,
) -> None:
    _needs_postgres(db)
    budget = DatabaseBudget(db)
    first, now = await budget.reserve("telegram:abc", rate=10.0, capacity=1.0, count=10)
    second, _ = await budget.reserve("telegram:abc", rate=10.0, capacity=1.0, count=10)
    other, later = await budget.reserve("smtp:relay:25", rate=10.0, capacity=1.0, count=10)
    assert first == pytest.approx(now, abs=0.001)
    assert second == pytest.approx(first + 1.0, abs=0.05)  # after the ten slots of the first
    assert other == pytest.approx(later, abs=0.001)  # another account, another schedule


async def test_three_instances_keep_one_telegram_bot_under_its_thirty_a_second(
    db: Database,
) -> None:
    _needs_postgres(db)
    async with Sandbox() as sandbox:  # the fake refuses a 31st message in any second
        three = await fan_out(db, sandbox, instances=3, chats=120)
    assert three.sent == 120
    assert three.refused == 0


class TickingClock:
    """A clock that moves a millisecond each time it is read (a slow process), and gives up
    after many reads so that a process spinning on it fails instead of hanging."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        assert self.reads < 10_000, "the process spins on the budget"
        self.now += 0.001
        return self.now


async def test_a_fast_account_never_spins_on_reservations_in_a_slow_process() -> None:
    clock = TickingClock()

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    slots = SharedSlots(
        MemoryBudget(clock), "smtp:relay:25", rate=100_000.0, clock=clock, sleep=sleep
    )
    for _ in range(50):
        await slots.acquire()
    assert slots.reservations == 50


async def test_a_providers_retry_after_holds_back_every_process_sharing_the_account() -> None:
    clock = ManualClock()
    budget = MemoryBudget(clock)
    refused, other = (
        SharedSlots(
            budget, "telegram:abc", rate=10.0, chunk=3, clock=clock, sleep=_advancing(clock)
        )
        for _ in range(2)
    )
    await refused.acquire(wanted=3)  # three slots in hand: now, +0.1, +0.2
    refused.hold(2.0)  # Telegram answered 429, retry after 2 s
    await asyncio.sleep(0)  # the hold reaches the budget
    await other.acquire()
    assert clock() >= 2.0  # the other process waited too, though it was never refused
    await refused.acquire()
    assert clock() >= 2.1
    assert refused.dropped == 2  # the slots it held within the wait were not spent


async def test_a_retry_after_from_the_pacer_reaches_the_shared_budget() -> None:
    clock = ManualClock()
    limiters = manual(clock)
    limits = ProviderLimits(key="telegram:abc", rate=10.0)
    pacer: Pacer[str] = build_pacer(limits, limiters)
    pacer.put([("", "a", False)])
    assert await pacer.take() == ("", "a")
    pacer.done("", retry_after=3.0)
    await asyncio.sleep(0)
    assert limiters.budget is not None
    other = SharedSlots(
        limiters.budget, "telegram:abc", rate=10.0, clock=clock, sleep=_advancing(clock)
    )
    await other.acquire()
    assert clock() >= 3.0


def _advancing(clock: ManualClock) -> Sleep:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)

    return sleep


async def test_the_database_budget_holds_every_instance_back_for_a_providers_wait(
    db: Database,
) -> None:
    _needs_postgres(db)
    budget = DatabaseBudget(db)
    await budget.reserve("telegram:hold", rate=10.0, capacity=1.0, count=1)
    await budget.hold("telegram:hold", seconds=2.0, rate=10.0, capacity=1.0)
    first, now = await budget.reserve("telegram:hold", rate=10.0, capacity=1.0, count=1)
    assert first == pytest.approx(now + 2.0, abs=0.05)
    await budget.hold("telegram:hold", seconds=0.5, rate=10.0, capacity=1.0)  # a shorter wait
    second, _ = await budget.reserve("telegram:hold", rate=10.0, capacity=1.0, count=1)
    assert second == pytest.approx(first + 0.1, abs=0.05)  # never pulls the schedule back
