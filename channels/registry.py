"""The one place mapping a channel kind to its adapter, built from plain configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from channels.base import Channel, ChannelHealth
from channels.config import ChannelsConfig
from channels.kinds import ChannelKind

__all__ = ["FACTORIES", "build_channel", "build_channels", "check_all", "sections"]


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


def sections(config: ChannelsConfig) -> dict[ChannelKind, Any]:
    """The configured section of each kind (enabled or not), as ``provider_limits`` reads it."""
    return {
        kind: getattr(config, name)
        for kind, (name, _) in FACTORIES.items()
        if getattr(config, name) is not None
    }


def build_channels(config: ChannelsConfig) -> dict[ChannelKind, Channel]:
    """Every configured adapter; the dispatcher paces them (``crisis.dispatch.pacing``).

    Build once per process and ``aclose()`` each at shutdown.
    """
    channels: dict[ChannelKind, Channel] = {}
    for kind in FACTORIES:
        channel = build_channel(kind, config)
        if channel is not None:
            channels[kind] = channel
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
