"""The demo's channels: the local sandbox, in-process, behind both channel sets."""

from __future__ import annotations

import logging

from pydantic import SecretStr

from channels.sandbox import DEFAULT_PORTS, SMS_REPLY_SECRET, TELEGRAM_REPLY_SECRET, Sandbox
from crisis.app.settings import Settings

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


def with_sandbox(settings: Settings, sandbox: Sandbox) -> Settings:
    """A demo has no real recipient: the real and the exercise sets both point at the fakes,
    and the replies simulated on the sandbox page come back to this Tocsin (both sets)."""
    config = sandbox.config()
    accounts = demo_public_accounts(sandbox)
    sandbox.answer_to(settings.base_url)
    telegram, sms = SecretStr(TELEGRAM_REPLY_SECRET), SecretStr(SMS_REPLY_SECRET)
    return settings.model_copy(
        update={
            "channels": config,
            "exercise_channels": config,
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
