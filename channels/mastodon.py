"""Mastodon statuses over httpx, with ``Idempotency-Key`` so a retry never posts twice."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from channels._http import check_response, make_client, map_error
from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import MastodonConfig
from channels.errors import ChannelError
from channels.kinds import ChannelKind
from channels.masking import mask

__all__ = ["MastodonChannel"]


class MastodonChannel:
    def __init__(self, config: MastodonConfig, *, name: str = "mastodon") -> None:
        self._config = config
        self._name = name
        self._base = config.base_url.rstrip("/")
        self._client = make_client(timeout=config.timeout)

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.MASTODON

    @property
    def name(self) -> str:
        return self._name

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._config.access_token.get_secret_value()}", **extra}

    def _secrets(self) -> list[str]:
        return [self._config.access_token.get_secret_value()]

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        body = {"status": message.text, "visibility": self._config.visibility, "language": "fr"}
        headers = self._headers(**{"Idempotency-Key": provider_key(message.idempotency_key)})
        try:
            response = await self._client.post(
                f"{self._base}/api/v1/statuses", json=body, headers=headers
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise map_error(exc, kind=self.kind, secrets=self._secrets()) from None
        check_response(response, kind=self.kind, secrets=self._secrets())
        status = response.json()
        return Receipt(
            provider_id=str(status.get("id", "")),
            raw_status=f"{response.status_code} {status.get('url', '')}".strip(),
            accepted_at=datetime.now(UTC),
        )

    async def check(self) -> ChannelHealth:
        settings = {
            "base_url": self._base,
            "access_token": mask(self._config.access_token.get_secret_value()),
        }
        try:
            response = await self._client.get(
                f"{self._base}/api/v1/accounts/verify_credentials", headers=self._headers()
            )
            check_response(response, kind=self.kind, secrets=self._secrets())
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = map_error(exc, kind=self.kind, secrets=self._secrets())
            return self._health(ok=False, detail=error.message, settings=settings)
        except ChannelError as exc:
            return self._health(ok=False, detail=exc.message, settings=settings)
        account = response.json().get("acct", "?")
        return self._health(ok=True, detail=f"Connecté en tant que @{account}", settings=settings)

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
