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

import httpx

from channels._http import check_response, make_client, map_error
from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import SmsConfig
from channels.errors import ChannelError
from channels.kinds import ChannelKind
from channels.masking import mask

__all__ = ["INBOUND_SIGNATURE_HEADER", "SmsChannel"]

_REFUSED_NUMBER = frozenset({400, 404, 422})
INBOUND_SIGNATURE_HEADER = "X-Tocsin-Signature"


class SmsChannel:
    def __init__(self, config: SmsConfig, *, name: str = "sms") -> None:
        self._config = config
        self._name = name
        self._client = make_client(timeout=config.timeout)

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.SMS

    @property
    def name(self) -> str:
        return self._name

    def _secrets(self) -> list[str]:
        return [self._config.api_key.get_secret_value()]

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._config.api_key.get_secret_value()}", **extra}

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        key = provider_key(message.idempotency_key)
        body = {
            "to": recipient.address,
            "from": self._config.sender_id,
            "text": message.text,
            "reference": key,
        }
        try:
            response = await self._client.post(
                self._config.gateway_url,
                json=body,
                headers=self._headers(**{"Idempotency-Key": key}),
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise map_error(exc, kind=self.kind, secrets=self._secrets()) from None
        check_response(
            response,
            kind=self.kind,
            secrets=self._secrets(),
            recipient=str(recipient),
            recipient_statuses=_REFUSED_NUMBER,
        )
        return Receipt(
            provider_id=str(response.json().get("id", "")),
            raw_status=str(response.status_code),
            accepted_at=datetime.now(UTC),
        )

    async def check(self) -> ChannelHealth:
        settings = {
            "gateway_url": self._config.gateway_url,
            "sender_id": self._config.sender_id,
            "api_key": mask(self._config.api_key.get_secret_value()),
        }
        try:
            response = await self._client.get(self._config.gateway_url, headers=self._headers())
            check_response(response, kind=self.kind, secrets=self._secrets())
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            detail = map_error(exc, kind=self.kind, secrets=self._secrets()).message
            return self._health(ok=False, detail=detail, settings=settings)
        except ChannelError as exc:
            return self._health(ok=False, detail=exc.message, settings=settings)
        return self._health(ok=True, detail="Passerelle SMS joignable", settings=settings)

    def _health(self, *, ok: bool, detail: str, settings: dict[str, str]) -> ChannelHealth:
        return ChannelHealth(
            kind=self.kind,
            name=self._name,
            ok=ok,
            detail=detail,
            sandbox=self._config.sandbox,
            settings=settings,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
