"""Outgoing webhooks: a JSON POST signed with HMAC-SHA256.

Headers: ``X-Tocsin-Signature: sha256=<hex HMAC of the raw body with the shared secret>``,
``X-Tocsin-Idempotency-Key`` (stable across retries) and ``Content-Type: application/json``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import httpx

from channels._http import check_response, make_client, map_error
from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import WebhookConfig
from channels.kinds import ChannelKind
from channels.masking import mask

__all__ = ["WebhookChannel", "sign"]

SIGNATURE_HEADER = "X-Tocsin-Signature"


def sign(*, secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    def __init__(self, config: WebhookConfig, *, name: str = "webhook") -> None:
        self._config = config
        self._name = name
        self._client = make_client(timeout=config.timeout)

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.WEBHOOK

    @property
    def name(self) -> str:
        return self._name

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        key = provider_key(message.idempotency_key)
        payload = {
            "idempotency_key": key,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "audience": message.audience,
            "exercise": message.exercise,
            "links": list(message.links),
            "sent_at": datetime.now(UTC).isoformat(),
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        secret = self._config.secret.get_secret_value()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret=secret, body=body),
            "X-Tocsin-Idempotency-Key": key,
        }
        try:
            response = await self._client.post(recipient.address, content=body, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise map_error(exc, kind=self.kind, secrets=[secret]) from None
        check_response(response, kind=self.kind, secrets=[secret], recipient=str(recipient))
        return Receipt(
            provider_id=response.headers.get("x-request-id", key),
            raw_status=str(response.status_code),
            accepted_at=datetime.now(UTC),
        )

    async def check(self) -> ChannelHealth:
        secret = self._config.secret.get_secret_value()
        ok = len(secret) >= 16
        return ChannelHealth(
            kind=self.kind,
            name=self._name,
            ok=ok,
            detail="Secret de signature configuré"
            if ok
            else "Secret de signature absent ou trop court (16 caractères au moins)",
            sandbox=self._config.sandbox,
            settings={"secret": mask(secret)},
        )

    async def aclose(self) -> None:
        await self._client.aclose()
