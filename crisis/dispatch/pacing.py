"""Per-channel pacing of the dispatcher: a token bucket and a bound on sends in flight.

The bound is the number of sender coroutines the dispatcher runs for the channel: each
takes the next delivery of its channel's queue when its previous send is over, so a channel
never has more sends in flight, and no lock is taken per delivery.

Buckets come from ``channels.ratelimit.RateLimiters`` keyed by account (never by a secret),
so the real and exercise sets pointing at one account share its limit. A provider's
``retry_after`` pauses the whole channel, not only the delivery that was refused.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from channels.base import provider_key
from channels.config import X_TIER_LIMITS, ChannelsConfig
from channels.kinds import ChannelKind
from channels.ratelimit import RateLimiters, TokenBucket
from channels.registry import FACTORIES

__all__ = ["Gate", "build_gate"]

_URL_FIELDS = ("base_url", "homeserver_url", "gateway_url")


@dataclass(slots=True)
class Gate:
    bucket: TokenBucket
    in_flight: int  # sends at once, i.e. sender coroutines
    limiters: RateLimiters

    async def token(self) -> None:
        """Take the next token of the bucket, waiting for it when the rate says so."""
        wait = self.bucket.reserve()
        if wait > 0:
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        self.bucket.pause_until(self.limiters.clock() + seconds)


def _limits(kind: ChannelKind, section: Any) -> tuple[str, float, float, int]:
    """(bucket key, rate per second, burst capacity, sends in flight) for one channel."""
    match kind:
        case ChannelKind.EMAIL:
            rate = float(section.rate_per_second)
            key = f"smtp:{section.host}:{section.port}"
            return key, rate, max(1.0, rate), section.pool_size
        case ChannelKind.TELEGRAM:
            key = "telegram:" + provider_key(section.token.get_secret_value())[:12]
            return key, float(section.rate_per_second), 1.0, 16
        case ChannelKind.X:
            count, window = X_TIER_LIMITS[section.tier]
            key = "x:" + provider_key(section.access_token.get_secret_value())[:12]
            return key, count / window, float(count), 1
        case _:
            rate = float(getattr(section, "rate_per_second", 10.0))
            where = next((getattr(section, n) for n in _URL_FIELDS if hasattr(section, n)), "")
            return f"{kind.value}:{where}", rate, max(1.0, rate), 8


def build_gate(kind: ChannelKind, config: ChannelsConfig, limiters: RateLimiters) -> Gate:
    field_name, _ = FACTORIES[kind]
    key, rate, capacity, in_flight = _limits(kind, getattr(config, field_name))
    bucket = limiters.bucket(key, rate=rate, capacity=capacity)
    return Gate(bucket=bucket, in_flight=in_flight, limiters=limiters)
