"""The port: what the core hands to a channel and what it gets back."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from channels.addresses import normalize_address
from channels.kinds import ChannelKind

__all__ = [
    "Channel",
    "ChannelHealth",
    "ChannelKind",
    "Message",
    "Receipt",
    "Recipient",
    "provider_key",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One rendered message for one channel.

    ``idempotency_key`` is stable across retries of the same delivery: adapters derive
    the provider-side key from it (e-mail ``Message-ID``, Matrix ``txnId``, Mastodon
    ``Idempotency-Key``), so a delivery sent twice is accepted once. ``thread`` holds the
    posts of an X thread, in order (``text`` is then their concatenation, for display);
    only the X adapter reads it. ``cap`` is the CAP 1.2 alert (XML) of a bulletin published
    to the public; only the webhook adapter carries it.
    """

    text: str
    idempotency_key: str
    subject: str = ""
    html: str | None = None
    audience: str = "public"
    exercise: bool = False
    links: tuple[str, ...] = ()
    thread: tuple[str, ...] = ()
    cap: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """An address on one channel, normalised and validated at construction.

    Raises ``InvalidRecipient`` (naming the recipient) when the address is malformed.
    """

    kind: ChannelKind
    address: str
    display_name: str = ""

    def __post_init__(self) -> None:
        normalized = normalize_address(
            kind=self.kind, address=self.address, display_name=self.display_name
        )
        object.__setattr__(self, "address", normalized)

    def __str__(self) -> str:
        if self.display_name:
            return f"{self.display_name} <{self.kind}:{self.address}>"
        return f"{self.kind}:{self.address}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """What the provider said when it accepted a message.

    ``refused`` maps an address to the provider's answer when a provider accepted the
    message for some recipients and refused it for others (SMTP): partial success is data.
    ``duplicate`` is true when the provider already had this message (idempotent retry).
    """

    provider_id: str
    raw_status: str
    accepted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    refused: Mapping[str, str] = field(default_factory=dict)
    duplicate: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHealth:
    """Result of ``Channel.check()``; ``detail`` is French, shown to administrators."""

    kind: ChannelKind
    name: str
    ok: bool
    detail: str
    sandbox: bool = False
    settings: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Channel(Protocol):
    @property
    def kind(self) -> ChannelKind: ...

    @property
    def name(self) -> str: ...

    async def send(self, message: Message, recipient: Recipient) -> Receipt: ...

    async def check(self) -> ChannelHealth: ...

    async def aclose(self) -> None: ...


def provider_key(idempotency_key: str) -> str:
    """The key sent to providers: 32 hex chars derived from the delivery's idempotency key."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
