"""Apprise for the long tail of services; the recipient address is an Apprise URL.

Apprise reports only success or failure, so every failure is transient: our outbox
retries (Apprise itself does not retry). Apprise URLs hold credentials: they are shown
only through Apprise's privacy form.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import apprise

from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import AppriseConfig
from channels.errors import ChannelError, InvalidRecipient, TransientChannelError
from channels.kinds import ChannelKind

__all__ = ["AppriseChannel", "map_error"]

_KIND = ChannelKind.APPRISE


def _private_url(url: str) -> str:
    plugin = apprise.Apprise.instantiate(url)
    return str(plugin.url(privacy=True)) if plugin else "URL Apprise illisible"  # type: ignore[no-untyped-call]


def map_error(*, url: str, accepted: bool | None) -> ChannelError:
    """Apprise answers None (URL not understood) or False (delivery failed)."""
    if accepted is None:
        return InvalidRecipient(
            f"Apprise : URL non reconnue ({_private_url(url)})", kind=_KIND, recipient="apprise"
        )
    return TransientChannelError(f"Apprise : échec d’envoi vers {_private_url(url)}", kind=_KIND)


class AppriseChannel:
    def __init__(self, config: AppriseConfig, *, name: str = "apprise") -> None:
        self._config = config
        self._name = name

    @property
    def kind(self) -> ChannelKind:
        return _KIND

    @property
    def name(self) -> str:
        return self._name

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        notifier = apprise.Apprise()
        if not notifier.add(recipient.address):
            raise map_error(url=recipient.address, accepted=None)
        accepted = await asyncio.to_thread(
            notifier.notify, body=message.text, title=message.subject
        )
        if not accepted:
            raise map_error(url=recipient.address, accepted=False)
        return Receipt(
            provider_id=provider_key(message.idempotency_key),
            raw_status="notified",
            accepted_at=datetime.now(UTC),
        )

    async def check(self) -> ChannelHealth:
        return ChannelHealth(
            kind=_KIND,
            name=self._name,
            ok=True,
            detail=f"Apprise {apprise.__version__} disponible",
            sandbox=self._config.sandbox,
        )

    async def aclose(self) -> None:
        return None
