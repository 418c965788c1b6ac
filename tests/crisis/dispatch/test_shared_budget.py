"""A provider's limits are the account's: instances sharing a database share its budget.

The arithmetic runs on a manual clock; the database's budget and the three instances need
PostgreSQL (SQLite serves one instance, whose buckets in memory are the whole limit).
"""

from __future__ import annotations

import asyncio

import pytest

from bench.channels.shared_budget_bench import fan_out
from channels.ratelimit import MemoryBudget, RateLimiters, SharedSlots, reserve_slots
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.dispatch.budget import DatabaseBudget, shared_limiters
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
