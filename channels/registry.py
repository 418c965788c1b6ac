"""The one place mapping a channel kind to its adapter, built from plain configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from channels.base import Channel, ChannelHealth, provider_key
from channels.config import X_TIER_LIMITS, ChannelsConfig
from channels.kinds import ChannelKind
from channels.ratelimit import RateLimiters
from channels.scheduler import PacedChannel

__all__ = ["FACTORIES", "build_channel", "build_channels", "check_all", "pace"]


def _email(config: Any) -> Channel:
    from channels.email import EmailChannel

    return EmailChannel(config)


def _telegram(config: Any) -> Channel:
    from channels.telegram import TelegramChannel

    return TelegramChannel(config)


def _x(config: Any) -> Channel:
    from channels.x import XChannel

    return XChannel(config)


def _mastodon(config: Any) -> Channel:
    from channels.mastodon import MastodonChannel

    return MastodonChannel(config)


def _matrix(config: Any) -> Channel:
    from channels.matrix import MatrixChannel

    return MatrixChannel(config)


def _sms(config: Any) -> Channel:
    from channels.sms import SmsChannel

    return SmsChannel(config)


def _webhook(config: Any) -> Channel:
    from channels.webhook import WebhookChannel

    return WebhookChannel(config)


def _apprise(config: Any) -> Channel:
    from channels.apprise_adapter import AppriseChannel

    return AppriseChannel(config)


# kind -> (field of ChannelsConfig, factory); adapters are imported only when configured.
FACTORIES: dict[ChannelKind, tuple[str, Callable[[Any], Channel]]] = {
    ChannelKind.EMAIL: ("smtp", _email),
    ChannelKind.TELEGRAM: ("telegram", _telegram),
    ChannelKind.X: ("x", _x),
    ChannelKind.MASTODON: ("mastodon", _mastodon),
    ChannelKind.MATRIX: ("matrix", _matrix),
    ChannelKind.SMS: ("sms", _sms),
    ChannelKind.WEBHOOK: ("webhook", _webhook),
    ChannelKind.APPRISE: ("apprise", _apprise),
}


def build_channel(kind: ChannelKind, config: ChannelsConfig) -> Channel | None:
    """The adapter for ``kind``, or None when it is not configured or disabled."""
    field_name, factory = FACTORIES[kind]
    section = getattr(config, field_name)
    if section is None or not section.enabled:
        return None
    return factory(section)


def pace(channel: Channel, config: ChannelsConfig, limiters: RateLimiters) -> PacedChannel:
    """Wrap ``channel`` in the scheduler with its configured limits.

    Buckets come from ``limiters``, so every sender of the process built with the same
    ``RateLimiters`` shares them (keyed by account, never by the secret itself).
    """
    field_name, _ = FACTORIES[channel.kind]
    section = getattr(config, field_name)
    interval = 0.0
    in_flight = 32
    window: tuple[int, float] | None = None
    match channel.kind:
        case ChannelKind.TELEGRAM:
            key = "telegram:" + provider_key(section.token.get_secret_value())[:12]
            bucket = limiters.bucket(key, rate=section.rate_per_second)
            interval = section.chat_interval
            window = (30, 1.0)  # Telegram refuses a 31st message within a second
        case ChannelKind.EMAIL:
            key = f"smtp:{section.host}:{section.port}"
            rate = section.rate_per_second
            bucket = limiters.bucket(key, rate=rate, capacity=max(1.0, rate))
            in_flight = section.pool_size * 2
        case ChannelKind.X:
            count, period = X_TIER_LIMITS[section.tier]
            key = "x:" + provider_key(section.access_token.get_secret_value())[:12]
            bucket = limiters.bucket(key, rate=count / period, capacity=count)
            in_flight = 1
        case _:
            rate = getattr(section, "rate_per_second", 10.0)
            key = f"{channel.kind}:{channel.name}"
            bucket = limiters.bucket(key, rate=rate, capacity=max(1.0, rate))
    return PacedChannel(
        channel,
        overall=bucket,
        recipient_interval=interval,
        max_in_flight=in_flight,
        window=window,
        clock=limiters.clock,
    )


def build_channels(
    config: ChannelsConfig, *, limiters: RateLimiters | None = None
) -> dict[ChannelKind, Channel]:
    """Every configured adapter, paced when ``limiters`` is given.

    Build once per process (with one ``RateLimiters``) and ``aclose()`` each at shutdown.
    """
    channels: dict[ChannelKind, Channel] = {}
    for kind in FACTORIES:
        channel = build_channel(kind, config)
        if channel is not None:
            channels[kind] = channel if limiters is None else pace(channel, config, limiters)
    return channels


async def check_all(config: ChannelsConfig, *, timeout: float = 10.0) -> list[ChannelHealth]:
    """Health of every channel kind, configured or not; credentials masked."""
    results: list[ChannelHealth] = []
    for kind in FACTORIES:
        channel = build_channel(kind, config)
        if channel is None:
            results.append(
                ChannelHealth(kind=kind, name=kind.value, ok=False, detail="Non configuré")
            )
            continue
        try:
            results.append(await asyncio.wait_for(channel.check(), timeout))
        except TimeoutError:
            results.append(
                ChannelHealth(
                    kind=kind,
                    name=channel.name,
                    ok=False,
                    detail=f"Pas de réponse en {timeout:g} s",
                )
            )
        finally:
            await channel.aclose()
    return results
