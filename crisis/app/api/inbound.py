"""Replies « OK » coming in from the providers (docs/replies.md).

- `POST /api/v1/inbound/telegram`: a Telegram `Update` as `setWebhook` posts it, with the
  `X-Telegram-Bot-Api-Secret-Token` header set to the secret given to `setWebhook`.
- `POST /api/v1/inbound/sms`: the SMS gateway's inbound message (`channels.sms`), signed
  `X-Tocsin-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.

The secret is compared in constant time with the real channel set's and the exercise set's:
the one it matches decides which crises the reply may answer (both, when one sandbox plays
both sets with one secret). No secret: 401; a wrong one: 403 (journaled); a malformed body:
422. A well-formed reply always gets 200, recognised or not, so that no provider retries it.
A Telegram update already handled on the same lane (its `update_id`, redelivered after a
slow or failed answer) gets 200 `duplicate` and changes nothing (`crisis.inbound_updates`).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from starlette.exceptions import HTTPException

from channels.sms import INBOUND_SIGNATURE_HEADER
from channels.webhook import sign
from crisis import inbound_updates, replies
from crisis.app.api.schemas import returns
from crisis.app.api.schemas.inbound import ReplyOutcome
from crisis.app.auth import ClockDep, DbDep, SettingsDep
from crisis.app.db import Database
from crisis.app.policies import reply_window
from crisis.app.settings import Settings
from crisis.errors import Forbidden, InvalidInput
from crisis.vocabulary import CrisisMode

router = APIRouter(prefix="/api/v1/inbound", tags=["réponses entrantes"])

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
E164 = r"^\+[1-9][0-9]{6,14}$"
M = TypeVar("M", bound=BaseModel)


class _Chat(BaseModel):
    id: int


class _Replied(BaseModel):
    message_id: int


class _TelegramMessage(BaseModel):
    message_id: int
    chat: _Chat
    text: str | None = None
    reply_to_message: _Replied | None = None


class TelegramUpdate(BaseModel):
    """The part of Telegram's `Update` that a reply uses; other fields are ignored."""

    update_id: int
    message: _TelegramMessage | None = None


class SmsInbound(BaseModel):
    """An SMS received by the gateway on the prefecture's number."""

    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(alias="from", pattern=E164, description="Numéro de l'expéditeur (E.164)")
    to: str = Field(default="", max_length=32, description="Numéro ou nom d'émetteur appelé")
    text: str = Field(max_length=1600)
    id: str = Field(default="", max_length=128, description="Identifiant chez la passerelle")
    received_at: datetime | None = None


def _modes(
    lanes: list[tuple[str, SecretStr | None]],
    *,
    channel: str,
    given: str | None,
    matches: Callable[[str, str], bool],
) -> frozenset[str]:
    """The crisis modes this request may answer: those whose secret it presented."""
    configured = [(mode, secret.get_secret_value()) for mode, secret in lanes if secret]
    if not configured:
        raise Forbidden(
            "inbound_not_configured", f"Réception des réponses {channel} non configurée."
        )
    if given is None:
        raise HTTPException(401, f"Secret du fournisseur {channel} absent.")
    modes = frozenset(mode for mode, secret in configured if matches(given, secret))
    if not modes:
        raise Forbidden("inbound_secret_refused", f"Secret du fournisseur {channel} refusé.")
    return modes


def _parse(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        details = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in error.errors()
        ]
        raise InvalidInput("invalid_body", "Corps de requête invalide.", details) from None


async def _record(
    reply: replies.InboundReply,
    modes: frozenset[str],
    *,
    db: Database,
    settings: Settings,
    now: datetime,
    update_id: int | None = None,
) -> dict[str, Any]:
    """Record the reply; with `update_id` (Telegram), only on the update's first arrival."""
    source = f"{reply.channel}:{'+'.join(sorted(modes))}"  # the lane: its own update_ids
    async with db.transaction() as session:
        if update_id is not None and not await inbound_updates.claim(
            session, source=source, update_id=update_id, now=now
        ):
            return {"ok": True, "outcome": "duplicate", "reason": None, "delivery_id": None}
        result = await replies.record(
            session,
            reply=reply,
            modes=modes,
            window=reply_window(settings),
            now=now,
        )
    return {
        "ok": True,
        "outcome": result.outcome.value,
        "reason": result.reason or None,
        "delivery_id": result.delivery_id,
    }


@router.post(
    "/telegram", summary="Réponse reçue par le bot Telegram (webhook)", **returns(ReplyOutcome, 400)
)
async def telegram_update(
    request: Request, settings: SettingsDep, db: DbDep, clock: ClockDep
) -> dict[str, Any]:
    modes = _modes(
        [
            (CrisisMode.REAL.value, settings.inbound_telegram_secret),
            (CrisisMode.EXERCISE.value, settings.exercise_inbound_telegram_secret),
        ],
        channel="Telegram",
        given=request.headers.get(TELEGRAM_SECRET_HEADER),
        matches=lambda given, secret: hmac.compare_digest(given.encode(), secret.encode()),
    )
    update = _parse(TelegramUpdate, await request.body())
    message = update.message
    if message is None or message.text is None:  # an edit, a sticker, a channel post…
        return {"ok": True, "outcome": "ignored", "reason": None, "delivery_id": None}
    chat = str(message.chat.id)
    replied = message.reply_to_message
    reply = replies.InboundReply(
        channel="telegram",
        sender=chat,
        text=message.text,
        reply_to=f"{chat}:{replied.message_id}" if replied else None,
    )
    return await _record(
        reply, modes, db=db, settings=settings, now=clock.now(), update_id=update.update_id
    )


@router.post("/sms", summary="SMS reçu par la passerelle", **returns(ReplyOutcome, 400))
async def sms_received(
    request: Request, settings: SettingsDep, db: DbDep, clock: ClockDep
) -> dict[str, Any]:
    body = await request.body()
    modes = _modes(
        [
            (CrisisMode.REAL.value, settings.inbound_sms_secret),
            (CrisisMode.EXERCISE.value, settings.exercise_inbound_sms_secret),
        ],
        channel="SMS",
        given=request.headers.get(INBOUND_SIGNATURE_HEADER),
        matches=lambda given, secret: hmac.compare_digest(
            given.encode(), sign(secret=secret, body=body).encode()
        ),
    )
    sms = _parse(SmsInbound, body)
    reply = replies.InboundReply(channel="sms", sender=sms.sender, text=sms.text)
    return await _record(reply, modes, db=db, settings=settings, now=clock.now())
