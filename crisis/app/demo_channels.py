"""The demo's channels: the local sandbox, in-process, behind both channel sets."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future

from pydantic import SecretStr

from channels.sandbox import DEFAULT_PORTS, SMS_REPLY_SECRET, TELEGRAM_REPLY_SECRET, Sandbox
from crisis.app.settings import Settings
from crisis.app.worker import free_loopback_port

log = logging.getLogger("tocsin.demo")


async def start_sandbox() -> Sandbox:
    """The sandbox on the ports of `tocsin sandbox` when free, else on ephemeral ones."""
    sandbox = Sandbox(ports=DEFAULT_PORTS)
    try:
        await sandbox.start()
    except OSError:
        await sandbox.stop()
        log.warning("sandbox ports busy (is `tocsin sandbox` running?): ephemeral ports")
        sandbox = Sandbox()
        await sandbox.start()
    return sandbox


class SandboxThread:
    """The demo's sandbox on its own thread and event loop, in the `serve` process: the fakes
    receiving thousands of messages do not take turns with page rendering, and they run the
    same whether the web is one process or several. The worker sends to them over loopback."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sandbox", daemon=True)
        self.sandbox: Sandbox | None = None

    def start(self) -> Sandbox:
        self._thread.start()
        started: Future[Sandbox] = asyncio.run_coroutine_threadsafe(start_sandbox(), self._loop)
        self.sandbox = started.result(timeout=30)
        return self.sandbox

    def stop(self) -> None:
        if self.sandbox is not None:
            stopped = asyncio.run_coroutine_threadsafe(self.sandbox.stop(), self._loop)
            stopped.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def with_sandbox(settings: Settings, sandbox: Sandbox) -> Settings:
    """A demo has no real recipient: the real and the exercise sets both point at the fakes,
    and the replies simulated on the sandbox page come back to this Tocsin (both sets).

    E-mail is paced as configured (`TOCSIN_CHANNELS__SMTP__RATE_PER_SECOND`, 50 messages/s by
    default): the demo's fan-out speed is that setting, not the fake's."""
    config = sandbox.config()
    if settings.channels.smtp is not None and config.smtp is not None:
        rate = settings.channels.smtp.rate_per_second
        config = config.model_copy(
            update={"smtp": config.smtp.model_copy(update={"rate_per_second": rate})}
        )
    accounts = demo_public_accounts(sandbox)
    sandbox.answer_to(settings.base_url)
    cip_port = settings.cip_smtp_port or free_loopback_port()  # the CIP's inbox, by the worker
    sandbox.urls["cip_inbox"] = f"smtp://{settings.cip_smtp_host}:{cip_port}"
    sandbox.urls["cip_address"] = settings.cip_address
    telegram, sms = SecretStr(TELEGRAM_REPLY_SECRET), SecretStr(SMS_REPLY_SECRET)
    return settings.model_copy(
        update={
            "channels": config,
            "exercise_channels": config,
            "cip_smtp_port": cip_port,
            "inbound_telegram_secret": telegram,
            "exercise_inbound_telegram_secret": telegram,
            "inbound_sms_secret": sms,
            "exercise_inbound_sms_secret": sms,
            "public_accounts": settings.public_accounts or accounts,
            "exercise_public_accounts": settings.exercise_public_accounts or accounts,
            "contact_phones": settings.contact_phones or DEMO_PHONES,
        }
    )


# Numbers ARCEP reserves for fiction (03 53 01 xx xx): the demo never names a real line.
DEMO_PHONES = {
    "telephone_elus": "03 53 01 00 10",
    "contact_presse": "03 53 01 00 20",
    "numero_unique": "03 53 01 00 00",
}


def demo_public_accounts(sandbox: Sandbox) -> dict[str, str]:
    """The prefecture's public accounts, as the sandbox plays them."""
    return {
        "x": "@Prefet80",
        "mastodon": "@prefet80",
        "telegram": "@prefet80_alertes",
        "webhook": sandbox.webhook_url("site-prefecture"),
    }
