"""The one pacing machine: each channel's queue of claimed deliveries, released at its limits.

The limits are the provider's, as ``channels.ratelimit.provider_limits`` declares them: a
token bucket per account (from ``RateLimiters``, keyed by account, never by a secret, so the
real and exercise sets pointing at one account share it), a bound on sends in flight, a
window of requests per period, and an interval per recipient (Telegram: a chat, a group).

``in_flight`` sender coroutines take the next delivery with ``take()`` and report the answer
with ``done()``. Without a per-recipient interval the queue is first in, first out and no
lock is taken. With one, the next delivery is that of the recipient ready first: several
messages for one chat never hold up the others, one recipient's messages leave in order and
one at a time, and its next one waits ``interval`` after the answer to the previous one (the
provider stamped the request in between). Urgent deliveries go ahead of the others. A
provider's ``retry_after`` pauses the whole channel, and its recipient at least as long; with
a shared budget it pauses every instance sending for the account.

With several instances on one database each send also takes a slot of the account's shared
schedule (``RateLimiters.shared``, a budget in PostgreSQL): the bot's 30 a second are the
bot's, however many processes send for it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from channels.ratelimit import (
    UNLIMITED,
    ProviderLimits,
    RateLimiters,
    SharedSlots,
    Sleep,
    TokenBucket,
)

__all__ = ["Pacer", "build_pacer"]

T = TypeVar("T")
_FOREVER = float("inf")


class Pacer(Generic[T]):
    def __init__(
        self,
        limits: ProviderLimits,
        bucket: TokenBucket,
        *,
        clock: Callable[[], float],
        sleep: Sleep = asyncio.sleep,
        shared: SharedSlots | None = None,
    ) -> None:
        self.limits = limits
        self.bucket = bucket
        self.shared = shared
        self._clock = clock
        self._sleep = sleep
        self._fifo: deque[T] = deque()
        self._queues: dict[str, deque[tuple[T, bool]]] = {}  # per recipient: (job, urgent)
        self._ready: list[tuple[float, int, str]] = []  # (instant, order, recipient)
        self._urgent: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._next_allowed: dict[str, float] = {}
        self._busy: set[str] = set()  # recipients with a send in flight
        self._waiting = 0  # jobs queued per recipient
        self._in_flight = 0
        self._answered: deque[float] = deque()
        self._wake = asyncio.Event()
        self._choosing = asyncio.Lock()

    @property
    def in_flight(self) -> int:
        return self.limits.in_flight

    def __len__(self) -> int:
        return len(self._fifo) + self._waiting

    def put(self, jobs: list[tuple[str, T, bool]]) -> None:
        """Queue ``(recipient, job, urgent)``; urgent jobs ahead of the others, in order."""
        if not self.limits.per_recipient:
            urgent = [job for _, job, first in jobs if first]
            self._fifo.extend(job for _, job, first in jobs if not first)
            self._fifo.extendleft(reversed(urgent))
        else:
            firsts: dict[str, list[T]] = {}
            for key, job, first in jobs:
                if first:
                    firsts.setdefault(key, []).append(job)
                else:
                    queue = self._queues.setdefault(key, deque())
                    queue.append((job, False))
                    if len(queue) == 1:
                        self._schedule(key)
            for key, urgent_jobs in firsts.items():
                self._queues.setdefault(key, deque()).extendleft(
                    (job, True) for job in reversed(urgent_jobs)
                )
                self._schedule(key)
            self._waiting += len(jobs)
        self._wake.set()

    def clear(self) -> None:
        """Forget the queued jobs and the sends in flight (a pass was cancelled)."""
        self._fifo.clear()
        self._queues.clear()
        self._ready.clear()
        self._urgent.clear()
        self._busy.clear()
        self._waiting = self._in_flight = 0

    async def take(self) -> tuple[str, T] | None:
        """The next job, when the limits allow it; None when none is left for this sender."""
        if not self.limits.per_recipient and self.limits.window is None:
            if not self._fifo:
                return None
            job = self._fifo.popleft()
            await self._token()
            self._in_flight += 1
            return "", job
        async with self._choosing:
            return await self._choose()

    def done(self, key: str, *, retry_after: float | None = None) -> None:
        """The answer to ``key``'s send came back (``retry_after``: the provider's delay)."""
        now = self._clock()
        self._in_flight -= 1
        if self.limits.window is not None:
            self._answered.append(now)
        if retry_after:
            self.bucket.pause_until(now + retry_after)
            if self.shared is not None:  # every instance holds back, not only this one
                self.shared.hold(retry_after)
        if self.limits.per_recipient:
            self._busy.discard(key)
            self._next_allowed[key] = now + max(self.limits.interval(key), retry_after or 0.0)
            self._schedule(key)
            if len(self._next_allowed) > 4096:
                self._forget(now)
        self._wake.set()

    def _forget(self, now: float) -> None:
        """Drop the recipients with nothing queued whose interval is over."""
        idle = [
            key
            for key, instant in self._next_allowed.items()
            if instant <= now and not self._queues.get(key) and key not in self._busy
        ]
        for key in idle:
            del self._next_allowed[key]
            self._queues.pop(key, None)

    async def _token(self) -> None:
        wait = self.bucket.reserve()
        if wait > 0:
            await self._sleep(wait)
        if self.shared is not None:
            await self.shared.acquire(len(self) + 1)

    async def _choose(self) -> tuple[str, T] | None:
        while True:
            if self.limits.per_recipient:
                head = self._head()
                if head is None:
                    if not self._waiting or not self._busy:
                        return None
                    await self._pause(_FOREVER)  # only busy recipients: wait for an answer
                    continue
                wait = head[0] - self._clock()
            else:
                if not self._fifo:
                    return None
                wait = 0.0
            if wait <= 0:
                wait = self._window_wait()
            if wait > 0:
                await self._pause(wait)
                continue
            key, job = self._pop()
            await self._token()
            self._in_flight += 1
            return key, job

    def _pop(self) -> tuple[str, T]:
        if not self.limits.per_recipient:
            return "", self._fifo.popleft()
        urgent = bool(self._urgent) and self._urgent[0][0] <= self._clock()
        _, _, key = heapq.heappop(self._urgent if urgent else self._ready)
        job, _ = self._queues[key].popleft()
        self._waiting -= 1
        self._busy.add(key)
        return key, job

    def _head(self) -> tuple[float, int, str] | None:
        """The earliest valid entry; stale ones (recipient busy, emptied, pushed back) go."""
        for heap in (self._urgent, self._ready):
            while heap and not self._valid(heap[0], urgent=heap is self._urgent):
                heapq.heappop(heap)
        if self._urgent and self._urgent[0][0] <= self._clock():
            return self._urgent[0]
        if self._ready and (not self._urgent or self._ready[0] <= self._urgent[0]):
            return self._ready[0]
        return self._urgent[0] if self._urgent else None

    def _valid(self, entry: tuple[float, int, str], *, urgent: bool) -> bool:
        instant, _, key = entry
        queue = self._queues.get(key)
        if key in self._busy or not queue or instant < self._next_allowed.get(key, 0.0):
            return False
        return queue[0][1] or not urgent

    def _schedule(self, key: str) -> None:
        queue = self._queues.get(key)
        if key in self._busy or not queue:
            return
        instant = max(self._next_allowed.get(key, 0.0), self._clock())
        heap = self._urgent if queue[0][1] else self._ready
        heapq.heappush(heap, (instant, next(self._order), key))

    def _window_wait(self) -> float:
        """0 when the window allows a send now, else seconds to wait (inf: an answer)."""
        if self.limits.window is None:
            return 0.0
        count, period = self.limits.window
        now = self._clock()
        while self._answered and self._answered[0] <= now - period:
            self._answered.popleft()
        excess = self._in_flight + len(self._answered) - count + 1
        if excess <= 0:
            return 0.0
        if excess > len(self._answered):
            return _FOREVER
        return self._answered[excess - 1] + period - now

    async def _pause(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if a job or an answer comes meanwhile."""
        self._wake.clear()
        waiters: set[asyncio.Future[object]] = {asyncio.ensure_future(self._woken())}
        if delay != _FOREVER:
            waiters.add(asyncio.ensure_future(self._slept(delay)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:  # also when this sender is cancelled
            for task in waiters:
                task.cancel()

    async def _woken(self) -> object:
        return await self._wake.wait()

    async def _slept(self, delay: float) -> object:
        await self._sleep(delay)
        return True


def build_pacer(limits: ProviderLimits | None, limiters: RateLimiters) -> Pacer[T]:
    """A pacer for one channel; generous, with a bucket of its own, without declared limits."""
    clock = limiters.clock
    if limits is None:
        bucket = TokenBucket(rate=UNLIMITED.rate, capacity=UNLIMITED.capacity, clock=clock)
        return Pacer(UNLIMITED, bucket, clock=clock, sleep=limiters.sleep)
    bucket = limiters.bucket(limits.key, rate=limits.rate, capacity=limits.capacity)
    shared = limiters.shared(limits.key, rate=limits.shared_rate, capacity=limits.capacity)
    return Pacer(limits, bucket, clock=clock, sleep=limiters.sleep, shared=shared)
