"""Outgoing webhooks: a JSON POST signed with HMAC-SHA256.

Headers: ``X-Tocsin-Signature: sha256=<hex HMAC of the raw body with the shared secret>``,
``X-Tocsin-Idempotency-Key`` (stable across retries) and ``Content-Type: application/json``.

For a bulletin published to the public, ``public_url`` is its public page and ``cap`` its CAP
1.2 alert (XML text), so that the receiving site can mirror the situation; both are null on
any other message. The payload is documented in docs/public.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from channels._http import HttpAdapter
from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import WebhookConfig
from channels.kinds import ChannelKind
from channels.masking import mask

__all__ = ["WebhookChannel", "sign"]

SIGNATURE_HEADER = "X-Tocsin-Signature"


def sign(*, secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookChannel(HttpAdapter[WebhookConfig]):
    KIND = ChannelKind.WEBHOOK

    def __init__(self, config: WebhookConfig, *, name: str = "webhook") -> None:
        super().__init__(config, name=name, secret=config.secret)

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
            "public_url": message.links[0] if message.links else None,
            "cap": message.cap,
            "sent_at": datetime.now(UTC).isoformat(),
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret=self._secret, body=body),
            "X-Tocsin-Idempotency-Key": key,
        }
        response = await self._call(
            "POST", recipient.address, content=body, headers=headers, recipient=str(recipient)
        )
        return Receipt(
            provider_id=response.headers.get("x-request-id", key),
            raw_status=str(response.status_code),
            accepted_at=datetime.now(UTC),
        )

    async def check(self) -> ChannelHealth:
        ok = len(self._secret) >= 16
        return self._health(
            ok=ok,
            detail="Secret de signature configuré"
            if ok
            else "Secret de signature absent ou trop court (16 caractères au moins)",
            settings={"secret": mask(self._secret)},
        )
