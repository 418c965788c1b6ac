"""Each provider's limits, and token buckets (GCRA form) shared per process by key.

``provider_limits`` declares them, read by the dispatcher's pacing (``crisis.dispatch.pacing``),
the one machine that paces sends. Defaults: Telegram 29.5/s per bot (under its 30/s), never
more than 30 requests in any second, one message per 1.05 s per chat and one per 3.15 s per
group or channel (Telegram allows 20 a minute); SMTP 50/s per relay, X per API tier
(``config.X_TIER_LIMITS``), Mastodon 1/s, Matrix 5/s, SMS and webhooks 20/s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from channels.base import provider_key
from channels.config import X_TIER_LIMITS
from channels.kinds import ChannelKind

__all__ = ["Clock", "ProviderLimits", "RateLimiters", "Sleep", "TokenBucket", "provider_limits"]

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


class RateLimiters:
    """The process-wide set of buckets: the same key always gives the same bucket.

    ``clock`` and ``sleep`` are the time every pacer of the process waits on (a test moves
    both by hand).
    """

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}

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
