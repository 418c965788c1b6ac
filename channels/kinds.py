from __future__ import annotations

from enum import StrEnum

__all__ = ["ChannelKind"]


class ChannelKind(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    X = "x"
    MASTODON = "mastodon"
    MATRIX = "matrix"
    SMS = "sms"
    WEBHOOK = "webhook"
    APPRISE = "apprise"
