"""Telegram Bot API through python-telegram-bot, to chats (numeric id) and channels (@name).

Telegram has no idempotency key: a retry after an unanswered request may post twice.
Flood limits (30 messages/s per bot, 1/s per chat, 20/min per group or channel) are declared
in ``channels.ratelimit`` and kept by the dispatcher's pacing; a ``RetryAfter`` still reaching
us becomes a transient error with its delay.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import telegram
from telegram import error as tg_error
from telegram.request import HTTPXRequest

from channels.adapter import Adapter
from channels.base import ChannelHealth, Message, Receipt, Recipient
from channels.config import TelegramConfig
from channels.errors import (
    ChannelError,
    ChannelMisconfigured,
    InvalidRecipient,
    PermanentChannelError,
    TransientChannelError,
)
from channels.kinds import ChannelKind
from channels.masking import mask, redact

__all__ = ["TelegramChannel", "map_error"]

_KIND = ChannelKind.TELEGRAM


def map_error(exc: tg_error.TelegramError, *, token: str, recipient: str = "") -> ChannelError:
    """The one place where python-telegram-bot's errors become channel errors."""
    reason = redact(str(exc), [token])
    if isinstance(exc, tg_error.RetryAfter):
        delay = exc._retry_after  # a timedelta; the public property warns about int periods
        return TransientChannelError(
            f"Telegram : limite de débit atteinte ({reason})",
            kind=_KIND,
            retry_after=delay.total_seconds() if isinstance(delay, timedelta) else float(delay),
        )
    if isinstance(exc, tg_error.InvalidToken):
        return ChannelMisconfigured("Telegram : jeton du bot refusé", kind=_KIND)
    if isinstance(exc, tg_error.Forbidden):
        return InvalidRecipient(
            f"Telegram : envoi interdit vers {recipient} (bot bloqué ou exclu) : {reason}",
            kind=_KIND,
            recipient=recipient,
        )
    if isinstance(exc, tg_error.BadRequest):  # before NetworkError, which it subclasses
        if "chat not found" in reason.lower():
            return InvalidRecipient(
                f"Telegram : discussion {recipient} introuvable", kind=_KIND, recipient=recipient
            )
        return PermanentChannelError(f"Telegram : requête refusée ({reason})", kind=_KIND)
    if isinstance(exc, tg_error.TimedOut | tg_error.NetworkError):
        return TransientChannelError(f"Telegram : réseau ({reason})", kind=_KIND)
    if isinstance(exc, tg_error.ChatMigrated):
        return InvalidRecipient(
            f"Telegram : la discussion {recipient} a migré vers {exc.new_chat_id}",
            kind=_KIND,
            recipient=recipient,
        )
    return PermanentChannelError(f"Telegram : {reason}", kind=_KIND)


class TelegramChannel(Adapter[TelegramConfig]):
    KIND = _KIND

    def __init__(self, config: TelegramConfig, *, name: str = "telegram") -> None:
        super().__init__(config, name=name)
        self._token = config.token.get_secret_value()
        request = HTTPXRequest(
            connection_pool_size=64,
            read_timeout=config.timeout,
            write_timeout=config.timeout,
            connect_timeout=config.timeout,
            pool_timeout=config.timeout,
        )
        self._bot = telegram.Bot(
            self._token or "0:missing", base_url=config.base_url, request=request
        )

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        chat: int | str = recipient.address
        if recipient.address.lstrip("-").isdigit():
            chat = int(recipient.address)
        try:
            sent = await self._bot.send_message(
                chat_id=chat, text=message.text, disable_web_page_preview=False
            )
        except tg_error.TelegramError as exc:
            raise map_error(exc, token=self._token, recipient=str(recipient)) from None
        return Receipt(
            provider_id=f"{sent.chat_id}:{sent.message_id}",
            raw_status="ok",
            accepted_at=sent.date.astimezone(UTC) if sent.date else datetime.now(UTC),
        )

    async def check(self) -> ChannelHealth:
        settings = {"base_url": self._config.base_url, "token": mask(self._token)}
        if not self._token:
            return self._health(ok=False, detail="Jeton du bot absent", settings=settings)
        try:
            me = await self._bot.get_me()
        except tg_error.TelegramError as exc:
            error = map_error(exc, token=self._token)
            return self._health(ok=False, detail=error.message, settings=settings)
        return self._health(ok=True, detail=f"Bot @{me.username} joignable", settings=settings)

    async def aclose(self) -> None:
        await self._bot.shutdown()
