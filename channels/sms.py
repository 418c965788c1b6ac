"""SMS through an HTTP gateway (httpx).

The gateway protocol: ``POST {gateway_url}`` with ``Authorization: Bearer {api_key}``,
``Idempotency-Key`` and the JSON ``{"to": E.164, "from": sender id, "text", "reference"}``;
2xx with ``{"id": ...}`` accepts, 429/5xx are transient (``Retry-After`` honoured), 400/404/422
refuse the number, other 4xx are permanent. ``GET {gateway_url}`` answers 200 when healthy.

Inbound (an SMS sent to the prefecture's number, docs/replies.md): the gateway posts
``{"from": E.164, "to": number or sender id, "text", "id", "received_at"?}`` to Tocsin's
``/api/v1/inbound/sms``, signed ``X-Tocsin-Signature: sha256=<hex HMAC-SHA256 of the raw
body with the inbound secret>`` (``channels.webhook.sign``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from channels._http import HttpAdapter
from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import SmsConfig
from channels.kinds import ChannelKind
from channels.masking import mask

__all__ = ["INBOUND_SIGNATURE_HEADER", "SmsChannel"]

_REFUSED_NUMBER = frozenset({400, 404, 422})
INBOUND_SIGNATURE_HEADER = "X-Tocsin-Signature"


class SmsChannel(HttpAdapter[SmsConfig]):
    KIND = ChannelKind.SMS

    def __init__(self, config: SmsConfig, *, name: str = "sms") -> None:
        super().__init__(config, name=name, secret=config.api_key)

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        key = provider_key(message.idempotency_key)
        body = {
            "to": recipient.address,
            "from": self._config.sender_id,
            "text": message.text,
            "reference": key,
        }
        response = await self._call(
            "POST",
            self._config.gateway_url,
            json=body,
            headers=self._headers(**{"Idempotency-Key": key}),
            recipient=str(recipient),
            recipient_statuses=_REFUSED_NUMBER,
        )
        return Receipt(
            provider_id=str(response.json().get("id", "")),
            raw_status=str(response.status_code),
            accepted_at=datetime.now(UTC),
        )

    async def check(self) -> ChannelHealth:
        return await self._probe(
            self._config.gateway_url,
            settings={
                "gateway_url": self._config.gateway_url,
                "sender_id": self._config.sender_id,
                "api_key": mask(self._secret),
            },
            ok=lambda _: "Passerelle SMS joignable",
        )
