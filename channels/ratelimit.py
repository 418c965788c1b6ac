"""Token buckets (GCRA form) with an injectable clock, shared per process by key.

Defaults: Telegram 29.5/s per bot (under its 30/s) and one message per 1.05 s per chat,
SMTP 50/s per relay, X per API tier (``config.X_TIER_LIMITS``), Mastodon 1/s, Matrix 5/s,
SMS and webhooks 20/s.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "RateLimiters", "TokenBucket"]

Clock = Callable[[], float]


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


class RateLimiters:
    """The process-wide set of buckets: the same key always gives the same bucket."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, key: str, *, rate: float, capacity: float = 1.0) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(rate=rate, capacity=capacity, clock=self.clock)
            self._buckets[key] = bucket
        return bucket
