"""Plain configuration models, embeddable in the application's settings.

With pydantic-settings (prefix ``TOCSIN_``, nested delimiter ``__``) a field is set as
``TOCSIN_CHANNELS__SMTP__HOST``. Credentials are ``SecretStr``: never shown in a repr.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "AppriseConfig",
    "ChannelSection",
    "ChannelsConfig",
    "MastodonConfig",
    "MatrixConfig",
    "SmsConfig",
    "SmtpConfig",
    "TelegramConfig",
    "WebhookConfig",
    "XConfig",
]

X_TIER_LIMITS: dict[str, tuple[int, float]] = {
    # POST /2/tweets per user: (requests, window in seconds); X's published limits, 2025.
    "free": (17, 24 * 3600.0),
    "basic": (100, 24 * 3600.0),
    "pro": (100, 15 * 60.0),
}


class ChannelSection(BaseModel):
    """What every channel's configuration has."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    sandbox: bool = False  # shown on the admin page: the channel points at a local fake
    timeout: float = Field(default=15.0, gt=0)


class SmtpConfig(ChannelSection):
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    validate_certs: bool = True
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "ne-pas-repondre@prefecture.invalid"
    sender_name: str = "Préfecture"
    message_id_domain: str = "tocsin.local"
    pool_size: int = Field(default=4, ge=1, le=64)
    rate_per_second: float = Field(default=50.0, gt=0)


class TelegramConfig(ChannelSection):
    token: SecretStr = SecretStr("")
    base_url: str = "https://api.telegram.org/bot"
    rate_per_second: float = Field(default=29.5, gt=0, le=30)
    chat_interval: float = Field(default=1.05, ge=1.0)
    group_interval: float = Field(default=3.15, ge=3.0)  # groups and channels: 20 a minute


class XConfig(ChannelSection):
    api_url: str = "https://api.twitter.com"
    consumer_key: SecretStr = SecretStr("")
    consumer_secret: SecretStr = SecretStr("")
    access_token: SecretStr = SecretStr("")
    access_token_secret: SecretStr = SecretStr("")
    tier: Literal["free", "basic", "pro"] = "free"


class MastodonConfig(ChannelSection):
    base_url: str = "https://mastodon.social"
    access_token: SecretStr = SecretStr("")
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    rate_per_second: float = Field(default=1.0, gt=0)


class MatrixConfig(ChannelSection):
    homeserver_url: str = "https://matrix.org"
    access_token: SecretStr = SecretStr("")
    rate_per_second: float = Field(default=5.0, gt=0)


class SmsConfig(ChannelSection):
    gateway_url: str = "http://127.0.0.1:8025/sms"
    api_key: SecretStr = SecretStr("")
    sender_id: str = Field(default="PREFECTURE", max_length=11)
    rate_per_second: float = Field(default=20.0, gt=0)


class WebhookConfig(ChannelSection):
    secret: SecretStr = SecretStr("")
    rate_per_second: float = Field(default=20.0, gt=0)


class AppriseConfig(ChannelSection):
    enabled: bool = False


class ChannelsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    smtp: SmtpConfig | None = None
    telegram: TelegramConfig | None = None
    x: XConfig | None = None
    mastodon: MastodonConfig | None = None
    matrix: MatrixConfig | None = None
    sms: SmsConfig | None = None
    webhook: WebhookConfig | None = None
    apprise: AppriseConfig | None = None
