"""Mastodon statuses over httpx, with ``Idempotency-Key`` so a retry never posts twice."""

from __future__ import annotations

from datetime import UTC, datetime

from channels._http import HttpAdapter
from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import MastodonConfig
from channels.kinds import ChannelKind
from channels.masking import mask

__all__ = ["MastodonChannel"]


class MastodonChannel(HttpAdapter[MastodonConfig]):
    KIND = ChannelKind.MASTODON

    def __init__(self, config: MastodonConfig, *, name: str = "mastodon") -> None:
        super().__init__(config, name=name, secret=config.access_token)
        self._base = config.base_url.rstrip("/")

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        body = {"status": message.text, "visibility": self._config.visibility, "language": "fr"}
        headers = self._headers(**{"Idempotency-Key": provider_key(message.idempotency_key)})
        response = await self._call(
            "POST", f"{self._base}/api/v1/statuses", json=body, headers=headers
        )
        status = response.json()
        return Receipt(
            provider_id=str(status.get("id", "")),
            raw_status=f"{response.status_code} {status.get('url', '')}".strip(),
            accepted_at=datetime.now(UTC),
        )

    async def check(self) -> ChannelHealth:
        return await self._probe(
            f"{self._base}/api/v1/accounts/verify_credentials",
            settings={"base_url": self._base, "access_token": mask(self._secret)},
            ok=lambda response: f"Connecté en tant que @{response.json().get('acct', '?')}",
        )
