"""Pacing sends to one provider: an overall bucket and a next-allowed instant per recipient.

``PacedChannel`` wraps an adapter and is itself a ``Channel``: callers ``await send()``
concurrently and the scheduler interleaves recipients that are ready (so several messages
for one chat do not hold up the others), keeps each recipient's messages in order, and puts
a message refused with a rate limit (429) back in its queue: it is delayed, never dropped.
Other errors go back to the caller, whose outbox retries.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from channels.base import Channel, ChannelHealth, Message, Receipt, Recipient
from channels.errors import TransientChannelError
from channels.kinds import ChannelKind
from channels.ratelimit import Clock, TokenBucket

__all__ = ["PacedChannel", "PacingStats"]

Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class _Job:
    message: Message
    recipient: Recipient
    future: asyncio.Future[Receipt]


@dataclass(slots=True)
class PacingStats:
    sent: int = 0
    rate_limited: int = 0  # 429 answers received (each one put its message back)
    failed: int = 0
    requeued_delays: list[float] = field(default_factory=list)


class PacedChannel:
    def __init__(
        self,
        channel: Channel,
        *,
        overall: TokenBucket,
        recipient_interval: float = 0.0,
        max_in_flight: int = 32,
        window: tuple[int, float] | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._channel = channel
        self._overall = overall
        self._interval = recipient_interval
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(max_in_flight)
        # (count, period): a send waits while ``count - 1`` earlier sends are in flight or
        # were answered less than ``period`` ago. The provider stamps a request between our
        # send and its answer, so whatever the jitter it never sees more than ``count``
        # requests in one period.
        self._window = window
        self._in_flight = 0
        self._answered_at: deque[float] = deque()
        self._queues: dict[str, deque[_Job]] = {}
        self._next_allowed: dict[str, float] = {}
        self._ready: list[tuple[float, int, str]] = []  # (instant, order, recipient key)
        self._scheduled: set[str] = set()  # keys in _ready or in flight
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats = PacingStats()

    @property
    def kind(self) -> ChannelKind:
        return self._channel.kind

    @property
    def name(self) -> str:
        return self._channel.name

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        future: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        key = recipient.address
        self._queues.setdefault(key, deque()).append(_Job(message, recipient, future))
        self._make_ready(key)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run())
        return await future

    def _make_ready(self, key: str) -> None:
        if key in self._scheduled or not self._queues.get(key):
            return
        self._scheduled.add(key)
        instant = max(self._next_allowed.get(key, 0.0), self._clock())
        heapq.heappush(self._ready, (instant, next(self._order), key))
        self._wake.set()

    async def _pause(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if a new message arrives meanwhile."""
        self._wake.clear()
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        _, pending = await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    async def _run(self) -> None:
        while self._ready or self._tasks:
            if not self._ready:
                self._wake.clear()
                await self._wake.wait()
                continue
            instant, _, key = self._ready[0]
            wait = instant - self._clock()
            if wait > 0:
                await self._pause(wait)
                continue
            if (hold := self._window_wait()) is not None:
                if hold == float("inf"):
                    self._wake.clear()
                    await self._wake.wait()
                else:
                    await self._pause(hold)
                continue
            heapq.heappop(self._ready)
            wait = self._overall.reserve()
            if wait > 0:
                await self._sleep(wait)
            await self._slots.acquire()
            job = self._queues[key].popleft()
            self._next_allowed[key] = self._clock() + self._interval
            self._in_flight += 1
            task = asyncio.create_task(self._deliver(key, job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _window_wait(self) -> float | None:
        """None when the window allows a send now, else seconds to wait (inf: an answer)."""
        if self._window is None:
            return None
        count, period = self._window
        now = self._clock()
        while self._answered_at and self._answered_at[0] <= now - period:
            self._answered_at.popleft()
        excess = self._in_flight + len(self._answered_at) - count + 1
        if excess <= 0:
            return None
        if excess > len(self._answered_at):
            return float("inf")
        return self._answered_at[excess - 1] + period - now

    async def _deliver(self, key: str, job: _Job) -> None:
        try:
            receipt = await self._channel.send(job.message, job.recipient)
        except TransientChannelError as exc:
            if exc.retry_after is None:
                self.stats.failed += 1
                _settle(job.future, error=exc)
            else:
                self.stats.rate_limited += 1
                self.stats.requeued_delays.append(exc.retry_after)
                self._queues[key].appendleft(job)
                self._next_allowed[key] = self._clock() + max(exc.retry_after, self._interval)
        except Exception as exc:  # noqa: BLE001 - not swallowed: handed to the caller
            self.stats.failed += 1
            _settle(job.future, error=exc)
        else:
            self.stats.sent += 1
            # counted from the answer, not the request: the provider saw it in between
            self._next_allowed[key] = self._clock() + self._interval
            _settle(job.future, receipt=receipt)
        finally:
            self._in_flight -= 1
            self._answered_at.append(self._clock())
            self._slots.release()
            self._scheduled.discard(key)
            self._make_ready(key)
            self._wake.set()

    async def check(self) -> ChannelHealth:
        return await self._channel.check()

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        await self._channel.aclose()


def _settle(
    future: asyncio.Future[Receipt],
    *,
    receipt: Receipt | None = None,
    error: BaseException | None = None,
) -> None:
    if future.done():  # the caller gave up waiting
        return
    if error is not None:
        future.set_exception(error)
    elif receipt is not None:
        future.set_result(receipt)
