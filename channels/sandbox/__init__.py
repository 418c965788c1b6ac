"""Local fakes of every provider, on loopback only, for tests, benchmarks and demos.

async with Sandbox() as sandbox:          # ephemeral ports
    config = sandbox.config()              # ChannelsConfig pointing at the fakes
    sandbox.telegram.state.fail_next(status=429, retry_after=1)
    sandbox.answer_to("http://127.0.0.1:8000")  # where simulated replies « OK » go
    sandbox.states["smtp"].received        # what the SMTP fake got
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

from pydantic import SecretStr

from channels.config import (
    ChannelsConfig,
    MastodonConfig,
    MatrixConfig,
    SmsConfig,
    SmtpConfig,
    TelegramConfig,
    WebhookConfig,
    XConfig,
)
from channels.sandbox.http import HttpServer
from channels.sandbox.mastodon_api import MastodonFake
from channels.sandbox.matrix_api import MatrixFake
from channels.sandbox.page import dashboard_app
from channels.sandbox.replies import ReplyTarget
from channels.sandbox.sms_api import SmsFake
from channels.sandbox.smtp import SmtpFake
from channels.sandbox.state import FakeState, Fault, Received
from channels.sandbox.telegram_api import TelegramFake
from channels.sandbox.webhook_api import WebhookFake
from channels.sandbox.x_api import XFake

__all__ = [
    "DEFAULT_PORTS",
    "LOOPBACK",
    "SMS_REPLY_SECRET",
    "TELEGRAM_REPLY_SECRET",
    "TELEGRAM_TOKEN",
    "FakeState",
    "Fault",
    "Received",
    "Sandbox",
    "SandboxPorts",
    "sandbox_config",
]

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
"""The only hosts a sandbox listens on, and a demo sends to."""

# Sandbox credentials: not secrets, but long enough to show how masking looks.
TELEGRAM_TOKEN = "123456789:AAsandbox-telegram-token-0001"  # noqa: S105 - sandbox only
X_CONSUMER_KEY = "sandbox-x-consumer-key-0001"
MASTODON_TOKEN = "sandbox-mastodon-token-0001"  # noqa: S105 - sandbox only
MATRIX_TOKEN = "sandbox-matrix-token-0001"  # noqa: S105 - sandbox only
SMS_API_KEY = "sandbox-sms-api-key-0001"
WEBHOOK_SECRET = "sandbox-webhook-secret-0001"  # noqa: S105 - sandbox only
TELEGRAM_REPLY_SECRET = "sandbox-telegram-reply-secret-0001"  # noqa: S105 - sandbox only
SMS_REPLY_SECRET = "sandbox-sms-reply-secret-0001"  # noqa: S105 - sandbox only


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxPorts:
    smtp: int = 0
    telegram: int = 0
    x: int = 0
    mastodon: int = 0
    matrix: int = 0
    sms: int = 0
    webhook: int = 0
    dashboard: int = 0


DEFAULT_PORTS = SandboxPorts(
    smtp=2525,
    telegram=8081,
    x=8082,
    mastodon=8083,
    matrix=8084,
    sms=8085,
    webhook=8086,
    dashboard=8090,
)


class Sandbox:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        ports: SandboxPorts | None = None,
        enforce_telegram_limits: bool = True,
        smtp_username: str | None = None,
        smtp_password: str | None = None,
        telegram_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the sandbox listens on loopback only, not {host!r}")
        self.host = host
        self.ports = ports or SandboxPorts()
        self.smtp = SmtpFake(username=smtp_username, password=smtp_password)
        self.telegram = TelegramFake(
            token=TELEGRAM_TOKEN, enforce_limits=enforce_telegram_limits, clock=telegram_clock
        )
        self.x = XFake(consumer_key=X_CONSUMER_KEY)
        self.mastodon = MastodonFake(token=MASTODON_TOKEN)
        self.matrix = MatrixFake(token=MATRIX_TOKEN)
        self.sms = SmsFake(api_key=SMS_API_KEY)
        self.webhook = WebhookFake(secret=WEBHOOK_SECRET)
        self.states: dict[str, FakeState] = {
            "smtp": self.smtp.state,
            "telegram": self.telegram.state,
            "x": self.x.state,
            "mastodon": self.mastodon.state,
            "matrix": self.matrix.state,
            "sms": self.sms.state,
            "webhook": self.webhook.state,
        }
        self.urls: dict[str, str] = {}
        self._servers: list[HttpServer] = []

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.smtp.start(host=self.host, port=self.ports.smtp)
        self.urls["smtp"] = f"smtp://{self.smtp.host}:{self.smtp.port}"
        apps = {
            "telegram": self.telegram.app(),
            "x": self.x.app(),
            "mastodon": self.mastodon.app(),
            "matrix": self.matrix.app(),
            "sms": self.sms.app(),
            "webhook": self.webhook.app(),
        }
        servers = {
            name: HttpServer(app, host=self.host, port=getattr(self.ports, name))
            for name, app in apps.items()
        }
        await asyncio.gather(*(server.start() for server in servers.values()))
        self._servers.extend(servers.values())
        self.urls.update({name: server.url for name, server in servers.items()})
        self.mastodon.base_url = self.urls["mastodon"]
        dashboard = HttpServer(
            dashboard_app(self.states, self.urls, self), host=self.host, port=self.ports.dashboard
        )
        await dashboard.start()
        self._servers.append(dashboard)
        self.urls["dashboard"] = dashboard.url

    async def stop(self) -> None:
        await asyncio.gather(*(server.stop() for server in self._servers))
        self._servers.clear()
        await self.smtp.stop()

    def answer_to(
        self,
        base_url: str,
        *,
        telegram_secret: str = TELEGRAM_REPLY_SECRET,
        sms_secret: str = SMS_REPLY_SECRET,
    ) -> None:
        """Deliver the replies simulated on the Telegram and SMS fakes to this Tocsin."""
        base = base_url.rstrip("/")
        self.telegram.reply_target = ReplyTarget(
            url=f"{base}/api/v1/inbound/telegram", secret=telegram_secret
        )
        self.sms.reply_target = ReplyTarget(url=f"{base}/api/v1/inbound/sms", secret=sms_secret)

    def publish_url(self, name: str, url: str) -> None:
        """Show `url` under `name` on the sandbox page (e.g. where to write to the CIP)."""
        self.urls[name] = url

    def webhook_url(self, name: str = "site") -> str:
        return f"{self.urls['webhook']}/hook/{name}"

    def config(self) -> ChannelsConfig:
        """Channel settings pointing at the running fakes (``sandbox=True`` everywhere)."""
        return sandbox_config(
            self.urls, smtp_username=self.smtp.username, smtp_password=self.smtp.password
        )


def sandbox_config(
    urls: Mapping[str, str],
    *,
    smtp_username: str | None = None,
    smtp_password: str | None = None,
) -> ChannelsConfig:
    """Channel settings pointing at the fakes of a sandbox listening at ``urls`` (its own, or
    those another process' sandbox gives on ``/_sandbox/urls``), ``sandbox=True`` everywhere."""
    smtp = urlsplit(urls["smtp"])
    if smtp.hostname is None or smtp.port is None:
        raise ValueError(f"no SMTP host and port in {urls['smtp']!r}")
    return ChannelsConfig(
        smtp=SmtpConfig(
            sandbox=True,
            host=smtp.hostname,
            port=smtp.port,
            security="none",
            username=smtp_username,
            password=SecretStr(smtp_password) if smtp_password else None,
            sender="ne-pas-repondre@prefecture-sandbox.fr",
            timeout=5.0,
        ),
        telegram=TelegramConfig(
            sandbox=True,
            token=SecretStr(TELEGRAM_TOKEN),
            base_url=urls["telegram"] + "/bot",
            timeout=5.0,
        ),
        x=XConfig(
            sandbox=True,
            api_url=urls["x"],
            consumer_key=SecretStr(X_CONSUMER_KEY),
            consumer_secret=SecretStr("sandbox-x-consumer-secret-0001"),
            access_token=SecretStr("sandbox-x-access-token-0001"),
            access_token_secret=SecretStr("sandbox-x-access-secret-0001"),
            timeout=5.0,
        ),
        mastodon=MastodonConfig(
            sandbox=True,
            base_url=urls["mastodon"],
            access_token=SecretStr(MASTODON_TOKEN),
            timeout=5.0,
        ),
        matrix=MatrixConfig(
            sandbox=True,
            homeserver_url=urls["matrix"],
            access_token=SecretStr(MATRIX_TOKEN),
            timeout=5.0,
        ),
        sms=SmsConfig(
            sandbox=True,
            gateway_url=urls["sms"] + "/sms",
            api_key=SecretStr(SMS_API_KEY),
            timeout=5.0,
        ),
        webhook=WebhookConfig(sandbox=True, secret=SecretStr(WEBHOOK_SECRET), timeout=5.0),
    )
