"""Each provider's limits, and token buckets (GCRA form) shared per process by key.

``provider_limits`` declares them, read by the dispatcher's pacing (``crisis.dispatch.pacing``),
the one machine that paces sends. Defaults: Telegram 29.5/s per bot (under its 30/s), never
more than 30 requests in any second, one message per 1.05 s per chat and one per 3.15 s per
group or channel (Telegram allows 20 a minute); SMTP 50/s per relay, X per API tier
(``config.X_TIER_LIMITS``), Mastodon 1/s, Matrix 5/s, SMS and webhooks 20/s.

A limit is the account's, not the process': with several instances on one database, a
``Budget`` (``crisis.dispatch.budget`` on PostgreSQL) holds each account's schedule of sends,
one slot every ``1/rate`` seconds, and each process reserves a few consecutive slots at a time
(``SharedSlots``) and spends them in its own pacing. Without a budget (SQLite: one instance)
the buckets of the process are the whole story.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from channels.base import provider_key
from channels.config import X_TIER_LIMITS
from channels.kinds import ChannelKind

__all__ = [
    "Budget",
    "Clock",
    "MemoryBudget",
    "ProviderLimits",
    "RateLimiters",
    "SharedSlots",
    "Sleep",
    "TokenBucket",
    "provider_limits",
    "reserve_slots",
]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` at once.

    ``reserve()`` takes a token now and returns how long to wait before using it, so
    concurrent callers queue in order without polling.
    """

    def __init__(self, *, rate: float, capacity: float = 1.0, clock: Clock = time.monotonic):
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be positive and capacity at least 1")
        self.rate = rate
        self.capacity = capacity
        self._interval = 1.0 / rate
        self._tolerance = (capacity - 1.0) * self._interval
        self._clock = clock
        self._tat = clock()  # theoretical arrival time of the next token

    def delay(self) -> float:
        """Seconds until a token is available, without taking it."""
        now = self._clock()
        return _wait(max(self._tat, now) - now - self._tolerance)

    def reserve(self) -> float:
        now = self._clock()
        tat = max(self._tat, now)
        wait = _wait(tat - now - self._tolerance)
        self._tat = tat + self._interval
        return wait

    def try_acquire(self) -> bool:
        if self.delay() > 0:
            return False
        self.reserve()
        return True

    def pause_until(self, instant: float) -> None:
        """No token before ``instant`` (a provider told us to wait)."""
        self._tat = max(self._tat, instant + self._tolerance)


def _wait(seconds: float) -> float:
    return seconds if seconds > 1e-9 else 0.0  # float noise is no reason to wait


class Budget(Protocol):
    """An account's schedule of sends, shared by every process that uses the account."""

    async def reserve(
        self, key: str, *, rate: float, capacity: float, count: int
    ) -> tuple[float, float]:
        """Take the next ``count`` slots of ``key``'s schedule, one every ``1 / rate`` s:
        ``(the instant of the first, now)``, both in seconds on the budget's own clock (the
        first is before now when the burst allows that much ahead)."""
        ...

    async def hold(self, key: str, *, seconds: float, rate: float, capacity: float) -> None:
        """No slot of ``key`` starts within ``seconds`` from now (the provider said to wait:
        every process sending for the account holds back, not only the one refused)."""
        ...


def reserve_slots(
    tat: float | None, now: float, *, rate: float, capacity: float, count: int
) -> tuple[float, float]:
    """GCRA over ``count`` slots: ``(the new theoretical arrival time, the delay of the first
    slot)``. ``tat`` is None for an account never used. The SQL of ``crisis.dispatch.budget``
    computes the same, on the database's clock."""
    span = count / rate
    tolerance = (capacity - 1.0) / rate
    start = now if tat is None else max(tat, now)
    return start + span, start - now - tolerance


def held_schedule(tat: float | None, now: float, *, seconds: float, tolerance: float) -> float:
    """The theoretical arrival time once the provider said to wait ``seconds``: the first slot
    of the next reservation (``tat - tolerance`` at the earliest) falls after the wait."""
    held = now + seconds + tolerance
    return held if tat is None else max(tat, held)


class MemoryBudget:
    """The ``Budget`` of processes that share one memory (tests, and what SQL mirrors)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}

    async def reserve(
        self, key: str, *, rate: float, capacity: float, count: int
    ) -> tuple[float, float]:
        now = self._clock()
        self._tat[key], delay = reserve_slots(
            self._tat.get(key), now, rate=rate, capacity=capacity, count=count
        )
        return now + delay, now

    async def hold(self, key: str, *, seconds: float, rate: float, capacity: float) -> None:
        tolerance = (capacity - 1.0) / rate
        self._tat[key] = held_schedule(
            self._tat.get(key), self._clock(), seconds=seconds, tolerance=tolerance
        )


class SharedSlots:
    """One process' share of an account's ``Budget``: slots reserved ``chunk`` at a time.

    ``acquire()`` waits for the next slot. A slot not used within ``grace`` of its instant
    is dropped rather than spent late (spent late, it would crowd the slots other processes
    spend on time, and the provider counts them all in one window). ``hold()``: the provider
    said to wait; the slots in hand within the wait are dropped and the account's schedule
    moves past it, for every process.
    """

    def __init__(
        self,
        budget: Budget,
        key: str,
        *,
        rate: float,
        capacity: float = 1.0,
        chunk: int | None = None,
        grace: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.key = key
        self.rate = rate
        self.capacity = capacity
        # a quarter of a second of sends per reservation: few queries, little left unused
        self.chunk = chunk or max(1, math.ceil(rate / 4))
        # half a period, at least the burst the provider allows, and never under 10 ms (a
        # busy event loop's jitter): lateness within it is no crowding
        self.grace = max(0.5 / rate, (capacity - 1.0) / rate, 0.01) if grace is None else grace
        self.reservations = 0
        self.dropped = 0  # slots reserved and left unused
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._slots: deque[float] = deque()
        self._lock = asyncio.Lock()
        # the budget's clock minus ours, read from the quickest answer so far (whose midpoint
        # is nearest the instant the budget read its clock); a little slack each time lets a
        # later answer correct a drift
        self._offset = 0.0
        self._best_rtt = math.inf
        self._held_until = -math.inf  # on our clock: no slot before (a provider's retry_after)
        self._hold_pending = False
        self._holds: set[asyncio.Task[None]] = set()

    def hold(self, seconds: float) -> None:
        """The provider answered « retry after ``seconds`` »: this process drops the slots it
        holds within the wait, and the budget moves every process' next slots past it."""
        self._held_until = max(self._held_until, self._clock() + seconds)
        self._hold_pending = True
        task = asyncio.get_running_loop().create_task(self._hold())
        self._holds.add(task)
        task.add_done_callback(self._holds.discard)

    async def _hold(self) -> None:
        async with self._lock:
            await self._flush_hold()

    async def _flush_hold(self) -> None:
        """Tell the budget of a wait not yet passed on (before the next reservation)."""
        if not self._hold_pending:
            return
        self._hold_pending = False
        seconds = self._held_until - self._clock()
        if seconds > 0:
            await self._budget.hold(
                self.key, seconds=seconds, rate=self.rate, capacity=self.capacity
            )

    async def acquire(self, wanted: int = 1) -> None:
        """Wait for a slot; ``wanted``: how many sends this process has in view (the next
        reservation takes no more, within ``chunk``)."""
        while True:
            slot = await self._next(wanted)
            wait = _wait(slot - self._clock())
            if wait <= 0:
                return
            await self._sleep(wait)
            if self._clock() - slot <= self.grace:
                return
            self.dropped += 1  # woken too late (a busy process): this slot has gone by

    async def _next(self, wanted: int) -> float:
        async with self._lock:
            now = self._clock()
            while self._slots and (
                self._slots[0] < now - self.grace or self._slots[0] < self._held_until
            ):
                self._slots.popleft()
                self.dropped += 1
            await self._flush_hold()
            while not self._slots:
                count = max(1, min(self.chunk, wanted))
                first, budget_now = await self._budget.reserve(
                    self.key, rate=self.rate, capacity=self.capacity, count=count
                )
                self.reservations += 1
                after = self._clock()
                self._best_rtt += 0.001
                if after - now <= self._best_rtt:
                    self._best_rtt = after - now
                    self._offset = budget_now - (now + after) / 2
                start = first - self._offset
                slots = (max(after, start + i / self.rate) for i in range(count))
                kept = [slot for slot in slots if slot >= self._held_until]
                self.dropped += count - len(kept)
                self._slots.extend(kept)
            return self._slots.popleft()


class RateLimiters:
    """The process-wide set of buckets: the same key always gives the same bucket.

    ``clock`` and ``sleep`` are the time every pacer of the process waits on (a test moves
    both by hand). With a ``budget``, each account's sends also take slots of its schedule
    shared with the other processes (``shared``).
    """

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        budget: Budget | None = None,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.budget = budget
        self._buckets: dict[str, TokenBucket] = {}
        self._shared: dict[str, SharedSlots] = {}

    def shared(self, key: str, *, rate: float, capacity: float = 1.0) -> SharedSlots | None:
        """The process' share of ``key``'s budget; None without a budget."""
        if self.budget is None:
            return None
        slots = self._shared.get(key)
        if slots is None:
            slots = SharedSlots(
                self.budget, key, rate=rate, capacity=capacity, clock=self.clock, sleep=self.sleep
            )
            self._shared[key] = slots
        return slots

    def bucket(self, key: str, *, rate: float, capacity: float = 1.0) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(rate=rate, capacity=capacity, clock=self.clock)
            self._buckets[key] = bucket
        return bucket


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderLimits:
    """What one provider account allows, as the dispatcher paces it.

    ``key`` names the account (never a secret): every sender of the process shares its
    bucket. ``window`` is ``(count, period)``: a send waits while ``count - 1`` earlier sends
    are in flight or were answered less than ``period`` ago, so whatever the network's
    jitter the provider never stamps more than ``count`` requests in one period. A recipient
    gets its next message ``interval(address)`` seconds after the answer to its previous one.
    """

    key: str
    rate: float  # sends per second
    capacity: float = 1.0  # burst
    in_flight: int = 8
    recipient_interval: float = 0.0
    group_interval: float = 0.0
    group_prefixes: tuple[str, ...] = ()  # addresses of groups and channels
    window: tuple[int, float] | None = None

    def interval(self, address: str) -> float:
        if self.group_prefixes and address.startswith(self.group_prefixes):
            return self.group_interval
        return self.recipient_interval

    @property
    def shared_rate(self) -> float:
        """The rate of the account's shared schedule: with a window, two sends a period under
        its count, so that the jitter between processes (a slot spent late within its grace
        by one, on time by another; a request that waited for a new connection) never puts
        ``count + 1`` sends in one period: 31 slots at 28 a second span 71 ms more than a
        second (at 29, 34 ms: three worker processes met one 429 in two fan-outs of three)."""
        if self.window is None:
            return self.rate
        count, period = self.window
        return min(self.rate, (count - 2) / period)

    @property
    def per_recipient(self) -> bool:
        return self.recipient_interval > 0 or self.group_interval > 0


UNLIMITED = ProviderLimits(key="", rate=10_000.0, capacity=10_000.0, in_flight=64)
_URL_FIELDS = ("base_url", "homeserver_url", "gateway_url")


def provider_limits(kind: ChannelKind, section: Any) -> ProviderLimits:
    """The limits of the account configured in ``section`` (a ``ChannelsConfig`` field)."""
    match kind:
        case ChannelKind.EMAIL:
            rate = float(section.rate_per_second)
            key = f"smtp:{section.host}:{section.port}"
            return ProviderLimits(
                key=key, rate=rate, capacity=max(1.0, rate), in_flight=section.pool_size
            )
        case ChannelKind.TELEGRAM:
            return ProviderLimits(
                key="telegram:" + provider_key(section.token.get_secret_value())[:12],
                rate=float(section.rate_per_second),
                in_flight=16,
                recipient_interval=section.chat_interval,
                # group chat ids are negative, channels are @names: 20 messages a minute
                group_interval=section.group_interval,
                group_prefixes=("-", "@"),
                window=(30, 1.0),  # Telegram refuses a 31st message within a second
            )
        case ChannelKind.X:
            count, period = X_TIER_LIMITS[section.tier]
            key = "x:" + provider_key(section.access_token.get_secret_value())[:12]
            return ProviderLimits(key=key, rate=count / period, capacity=float(count), in_flight=1)
        case _:
            rate = float(getattr(section, "rate_per_second", 10.0))
            where = next((getattr(section, n) for n in _URL_FIELDS if hasattr(section, n)), "")
            return ProviderLimits(key=f"{kind.value}:{where}", rate=rate, capacity=max(1.0, rate))
