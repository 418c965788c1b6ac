"""What the httpx-based adapters (Mastodon, Matrix, SMS, webhook) share: a base holding the
client, and the one function that maps httpx errors and HTTP statuses to ``channels.errors``."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from pydantic import SecretStr

from channels.adapter import Adapter
from channels.base import ChannelHealth
from channels.config import ChannelSection
from channels.errors import (
    ChannelError,
    ChannelMisconfigured,
    InvalidRecipient,
    PermanentChannelError,
    TransientChannelError,
)
from channels.kinds import ChannelKind
from channels.masking import redact

__all__ = ["HttpAdapter", "check_response", "make_client", "map_error", "retry_after_seconds"]

C = TypeVar("C", bound=ChannelSection)

_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def make_client(*, timeout: float, max_connections: int = 32) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=timeout,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=16),
        follow_redirects=False,
        trust_env=False,
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta or HTTP date) or a Matrix body."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            return max(0.0, when.timestamp() - time.time())
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        try:
            when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
        except ValueError:
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("retry_after_ms"), int | float):
        return float(body["retry_after_ms"]) / 1000.0
    return None


def map_error(
    error: httpx.HTTPError | httpx.InvalidURL | httpx.Response,
    *,
    kind: ChannelKind,
    secrets: Iterable[str],
    recipient: str = "",
    recipient_statuses: frozenset[int] = frozenset(),
) -> ChannelError:
    """The one place where httpx failures and provider statuses become channel errors."""
    secrets = list(secrets)
    if isinstance(error, httpx.Response):
        status = error.status_code
        detail = redact(error.text[:200], secrets)
        message = f"{kind} : réponse HTTP {status} du fournisseur ({detail})"
        if status in _TRANSIENT_STATUSES or status >= 500:
            return TransientChannelError(message, kind=kind, retry_after=retry_after_seconds(error))
        if status in recipient_statuses:
            return InvalidRecipient(message, kind=kind, recipient=recipient)
        if status == 401:
            return ChannelMisconfigured(
                f"{kind} : identifiants refusés par le fournisseur (HTTP 401)", kind=kind
            )
        return PermanentChannelError(message, kind=kind)
    reason = redact(f"{type(error).__name__}: {error}", secrets)
    if isinstance(error, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        return TransientChannelError(f"{kind} : fournisseur injoignable ({reason})", kind=kind)
    if isinstance(error, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ChannelMisconfigured(f"{kind} : adresse du service invalide ({reason})", kind=kind)
    return TransientChannelError(f"{kind} : erreur de transport ({reason})", kind=kind)


def check_response(
    response: httpx.Response,
    *,
    kind: ChannelKind,
    secrets: Iterable[str],
    recipient: str = "",
    recipient_statuses: frozenset[int] = frozenset(),
) -> None:
    if response.is_success:
        return
    raise map_error(
        response,
        kind=kind,
        secrets=secrets,
        recipient=recipient,
        recipient_statuses=recipient_statuses,
    )


class HttpAdapter(Adapter[C]):
    """An adapter speaking HTTP with one credential (a bearer token, a key, a secret)."""

    def __init__(self, config: C, *, name: str, secret: SecretStr) -> None:
        super().__init__(config, name=name)
        self._secret = secret.get_secret_value()
        self._client = make_client(timeout=config.timeout)

    def _secrets(self) -> list[str]:
        return [self._secret]

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._secret}", **extra}

    async def _call(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        json: object = None,
        content: bytes | None = None,
        recipient: str = "",
        recipient_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """The provider's answer, or the channel error its failure or status means."""
        try:
            response = await self._client.request(
                method, url, headers=headers, json=json, content=content
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise map_error(exc, kind=self.KIND, secrets=self._secrets()) from None
        check_response(
            response,
            kind=self.KIND,
            secrets=self._secrets(),
            recipient=recipient,
            recipient_statuses=recipient_statuses,
        )
        return response

    async def _probe(
        self, url: str, *, settings: dict[str, str], ok: Callable[[httpx.Response], str]
    ) -> ChannelHealth:
        """Health from ``GET url`` with the credential; ``ok`` words a success."""
        try:
            response = await self._call("GET", url, headers=self._headers())
        except ChannelError as exc:
            return self._health(ok=False, detail=exc.message, settings=settings)
        return self._health(ok=True, detail=ok(response), settings=settings)

    async def aclose(self) -> None:
        await self._client.aclose()
