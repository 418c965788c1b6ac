"""X (Twitter) posts through tweepy's ``Client.create_tweet``, run in a worker thread.

tweepy has no host setting: to reach another host (the sandbox) a ``requests`` adapter
mounted on the client's session rewrites ``https://api.twitter.com``. A 403 for duplicate
content means the post already exists: the retry is treated as published.

Threads (``Message.thread``): one delivery is one thread. Part 1 is posted, then each next
part as a reply to the one before (``in_reply_to_tweet_id``); the receipt's ``provider_id``
is the id of part 1. Every part's id is memorised in the process under the delivery's
idempotency key and the part's rank, so a retry after a transient failure on part k (5xx,
429, dropped connection) skips the parts already published and chains part k to part k-1:
X never sees a repeated text. The memo does not survive a restart: if part 1 then comes
back as duplicate content, its id is unknown and the rest cannot be chained; likewise when
X accepted a part whose answer was lost. Rather than post loose replies, the delivery fails
(``PermanentChannelError``) with a French reason naming the parts already out, for a person
to check the account and finish the thread by hand. If that lost part was the last one, the
thread is complete and the delivery counts as sent (``duplicate``).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter

from channels.adapter import Adapter
from channels.base import ChannelHealth, Message, Receipt, Recipient
from channels.config import XConfig
from channels.errors import (
    ChannelError,
    ChannelMisconfigured,
    PermanentChannelError,
    TransientChannelError,
)
from channels.kinds import ChannelKind
from channels.masking import mask, redact

__all__ = ["XChannel", "map_error"]

_KIND = ChannelKind.X
_X_HOST = "https://api.twitter.com"


def _is_duplicate(exc: tweepy.Forbidden) -> bool:
    messages = " ".join(str(m) for m in exc.api_messages) + " " + str(exc)
    return "duplicate" in messages.lower()


def map_error(exc: Exception, *, secrets: list[str]) -> ChannelError:
    """The one place where tweepy and requests errors become channel errors."""
    reason = redact(f"{type(exc).__name__}: {exc}", secrets)[:300]
    if isinstance(exc, tweepy.TooManyRequests):
        reset = getattr(exc, "reset_time", None)
        retry_after = max(0.0, reset - time.time()) if reset is not None else None
        return TransientChannelError(
            f"X : limite de publication atteinte ({reason})", kind=_KIND, retry_after=retry_after
        )
    if isinstance(exc, tweepy.Unauthorized):
        return ChannelMisconfigured("X : identifiants refusés (HTTP 401)", kind=_KIND)
    if isinstance(exc, tweepy.TwitterServerError):
        return TransientChannelError(f"X : erreur du service ({reason})", kind=_KIND)
    if isinstance(exc, requests.RequestException):
        return TransientChannelError(f"X : service injoignable ({reason})", kind=_KIND)
    return PermanentChannelError(f"X : publication refusée ({reason})", kind=_KIND)


class _HostRewrite(HTTPAdapter):
    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if request.url and request.url.startswith(_X_HOST):
            request.url = self._target + request.url[len(_X_HOST) :]
        return super().send(request, *args, **kwargs)


class XChannel(Adapter[XConfig]):
    KIND = _KIND

    def __init__(self, config: XConfig, *, name: str = "x") -> None:
        super().__init__(config, name=name)
        self._client = tweepy.Client(
            consumer_key=config.consumer_key.get_secret_value(),
            consumer_secret=config.consumer_secret.get_secret_value(),
            access_token=config.access_token.get_secret_value(),
            access_token_secret=config.access_token_secret.get_secret_value(),
        )
        if config.api_url.rstrip("/") != _X_HOST:
            self._client.session.mount(_X_HOST, _HostRewrite(config.api_url))
        self._lock = asyncio.Lock()  # one request at a time on the shared requests session
        self._published: dict[str, str] = {}
        self._thread_posts: dict[tuple[str, int], str] = {}  # (idempotency key, rank) -> id

    def _secrets(self) -> list[str]:
        c = self._config
        return [
            s.get_secret_value()
            for s in (c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret)
        ]

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        if message.thread:
            return await self._send_thread(message)
        known = self._published.get(message.idempotency_key)
        if known is not None:
            return Receipt(provider_id=known, raw_status="already published", duplicate=True)
        tweet_id = await self._post(message.text)
        if tweet_id is None:
            return Receipt(provider_id="", raw_status="403 duplicate", duplicate=True)
        self._published[message.idempotency_key] = tweet_id
        return Receipt(provider_id=tweet_id, raw_status="201", accepted_at=datetime.now(UTC))

    async def _send_thread(self, message: Message) -> Receipt:
        key, total = message.idempotency_key, len(message.thread)
        ids: list[str] = []
        fresh = 0
        for rank, part in enumerate(message.thread):
            known = self._thread_posts.get((key, rank))
            if known is None:
                known = await self._post(part, reply_to=ids[-1] if ids else None)
                if known is None:
                    if rank == total - 1 and ids:
                        break  # the last part was out already: the thread is complete
                    rest = (
                        f"parties {rank + 2} à {total}" if rank + 2 < total else f"partie {total}"
                    )
                    raise PermanentChannelError(
                        f"X : fil interrompu, la partie {rank + 1}/{total} est déjà publiée "
                        "mais son identifiant est perdu (redémarrage ou réponse perdue) : "
                        "vérifiez le compte et, s’il en manque, publiez à la main en réponse "
                        f"la suite du fil ({rest}).",
                        kind=_KIND,
                    )
                self._thread_posts[(key, rank)] = known
                fresh += 1
            ids.append(known)
        return Receipt(
            provider_id=ids[0],
            raw_status=f"201 fil de {total} messages",
            accepted_at=datetime.now(UTC),
            duplicate=fresh == 0,
        )

    async def _post(self, text: str, *, reply_to: str | None = None) -> str | None:
        """The new post's id; ``None`` when X already has this text (403 duplicate content)."""
        async with self._lock:
            try:
                response = await asyncio.to_thread(
                    self._client.create_tweet,
                    text=text,
                    in_reply_to_tweet_id=reply_to,
                    user_auth=True,
                )
            except tweepy.Forbidden as exc:
                if _is_duplicate(exc):
                    return None
                raise map_error(exc, secrets=self._secrets()) from None
            except (tweepy.TweepyException, requests.RequestException) as exc:
                raise map_error(exc, secrets=self._secrets()) from None
        return str(response.data["id"])

    async def check(self) -> ChannelHealth:
        settings = {
            "api_url": self._config.api_url,
            "tier": self._config.tier,
            "consumer_key": mask(self._config.consumer_key.get_secret_value()),
            "access_token": mask(self._config.access_token.get_secret_value()),
        }
        async with self._lock:
            try:
                response = await asyncio.to_thread(self._client.get_me, user_auth=True)
            except (tweepy.TweepyException, requests.RequestException) as exc:
                error = map_error(exc, secrets=self._secrets())
                return self._health(ok=False, detail=error.message, settings=settings)
        username = response.data["username"] if response.data else "?"
        return self._health(ok=True, detail=f"Compte @{username} joignable", settings=settings)

    async def aclose(self) -> None:
        self._client.session.close()
