"""Receipt confirmations: a signed single-use link per delivery, a reply keyword on SMS or
Telegram (`crisis.replies`), or a logged phone call.

A confirmation marks the delivery `confirmed` (method `link`, `reply` or `phone`) and cancels
what is still waiting for the same person on the same bulletin: the later ranks of a cascade,
and a `to_call` entry nobody needs to phone any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor, Role
from crisis.bulletin.render import CONFIRM_PLACEHOLDER, REPLY_CODE_PLACEHOLDER
from crisis.dispatch import reach
from crisis.dispatch.outbox import Delivery, DeliveryStatus
from crisis.errors import Conflict, InvalidInput, NotFound

SALT = "tocsin-confirmation"
REPLY_CODE_MODULUS = 10_000
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.TO_CALL)
PHONE_CONFIRMABLE = frozenset(
    {
        DeliveryStatus.TO_CALL,
        DeliveryStatus.FAILED,
        DeliveryStatus.PENDING,
        DeliveryStatus.RETRYING,
        DeliveryStatus.SENDING,
        DeliveryStatus.SENT,
    }
)


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def token_for(delivery_id: int, *, secret: str) -> str:
    return str(_serializer(secret).dumps(delivery_id))


def link_for(delivery_id: int, *, secret: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/confirmer/{token_for(delivery_id, secret=secret)}"


def reply_code(delivery_id: int) -> str:
    """The four digits a person adds to « OK » to name this delivery among theirs.

    Deliveries written close together never share a code; two awaiting deliveries to one
    address share it only when their ids differ by a multiple of 10,000 (the reply is then
    ambiguous and changes nothing).
    """
    return f"{delivery_id % REPLY_CODE_MODULUS:04d}"


def personalise(text: str, *, delivery_id: int, secret: str, base_url: str) -> str:
    """The text one person receives: `CONFIRM_PLACEHOLDER` becomes their own signed link,
    `REPLY_CODE_PLACEHOLDER` the code of their delivery."""
    if REPLY_CODE_PLACEHOLDER in text:
        text = text.replace(REPLY_CODE_PLACEHOLDER, reply_code(delivery_id))
    if CONFIRM_PLACEHOLDER not in text:
        return text
    return text.replace(
        CONFIRM_PLACEHOLDER, link_for(delivery_id, secret=secret, base_url=base_url)
    )


def delivery_of(token: str, *, secret: str) -> int:
    """The delivery a token names; 404 for a forged or mangled token."""
    try:
        value = _serializer(secret).loads(token)
    except BadSignature:
        raise NotFound("invalid_token", "Ce lien de confirmation n'est pas valide.") from None
    if not isinstance(value, int):
        raise NotFound("invalid_token", "Ce lien de confirmation n'est pas valide.")
    return value


@dataclass(frozen=True, slots=True)
class Confirmation:
    delivery: Delivery
    cancelled: int
    already: bool = False


async def _delivery(session: AsyncSession, delivery_id: int) -> Delivery:
    query = (
        select(Delivery)
        .where(Delivery.id == delivery_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    delivery = (await session.exec(query)).first()
    if delivery is None:
        raise NotFound("delivery_not_found", f"Aucun envoi n° {delivery_id}.")
    return delivery


async def cancel_remaining(session: AsyncSession, *, delivery: Delivery) -> int:
    """Cancel what still waits for this person on this bulletin (cascade ranks, to-call)."""
    same_person: sa.ColumnElement[bool]
    if delivery.contact_id is not None:
        same_person = col(Delivery.contact_id) == delivery.contact_id
    elif delivery.cascade_group is not None:
        same_person = col(Delivery.cascade_group) == delivery.cascade_group
    else:
        return 0
    result = await session.exec(
        sa.update(Delivery)
        .where(
            col(Delivery.bulletin_id) == delivery.bulletin_id,
            col(Delivery.purpose) == delivery.purpose,
            same_person,
            col(Delivery.id) != delivery.id,
            col(Delivery.status).in_([s.value for s in WAITING]),
        )
        .values(
            status=DeliveryStatus.CANCELLED,
            next_attempt_at=None,
            last_error="accusé de réception reçu",
        )
    )
    return result.rowcount


async def _confirm(
    session: AsyncSession,
    *,
    delivery: Delivery,
    actor: Actor,
    method: str,
    confirmed_by: str,
    now: datetime,
    details: dict[str, object],
) -> Confirmation:
    delivery.status = DeliveryStatus.CONFIRMED
    delivery.next_attempt_at = None  # settled: nothing more to send
    delivery.confirmed_at, delivery.confirm_method = now, method
    delivery.confirmed_by = confirmed_by
    session.add(delivery)
    await session.flush()
    cancelled = await cancel_remaining(session, delivery=delivery)
    if delivery.crisis_id is not None and delivery.contact_id is not None:
        await reach.refresh(
            await session.connection(),
            crisis_id=delivery.crisis_id,
            contact_ids=[delivery.contact_id],
        )
    await journal.append(
        session,
        actor=actor,
        action="delivery.confirmed",
        now=now,
        crisis_id=delivery.crisis_id,
        payload={
            "delivery_id": delivery.id,
            "bulletin_id": delivery.bulletin_id,
            "contact_id": delivery.contact_id,
            **details,
            "method": method,
            "cancelled": cancelled,
        },
    )
    return Confirmation(delivery, cancelled)


async def _confirm_as_recipient(
    session: AsyncSession, *, delivery_id: int, method: str, actor: Actor | None, now: datetime
) -> Confirmation:
    """The recipient confirmed (link or reply): a second time changes nothing."""
    delivery = await _delivery(session, delivery_id)
    if delivery.status in (DeliveryStatus.CONFIRMED, DeliveryStatus.CANCELLED):
        return Confirmation(delivery, 0, already=True)
    name = delivery.recipient_name or delivery.address
    return await _confirm(
        session,
        delivery=delivery,
        actor=actor or Actor(None, "destinataire", frozenset()),
        method=method,
        confirmed_by=name,
        now=now,
        details={"channel": delivery.channel},
    )


async def confirm_by_link(
    session: AsyncSession, *, token: str, secret: str, now: datetime
) -> Confirmation:
    """The recipient followed their link: single use, a second visit changes nothing."""
    delivery_id = delivery_of(token, secret=secret)
    return await _confirm_as_recipient(
        session, delivery_id=delivery_id, method="link", actor=None, now=now
    )


async def confirm_by_reply(
    session: AsyncSession, *, delivery_id: int, name: str, now: datetime
) -> Confirmation:
    """The recipient answered « OK » on the channel that carried the delivery."""
    return await _confirm_as_recipient(
        session,
        delivery_id=delivery_id,
        method="reply",
        actor=Actor(None, name[:64] or "destinataire", frozenset()),
        now=now,
    )


async def confirm_by_phone(
    session: AsyncSession,
    *,
    actor: Actor,
    delivery_id: int,
    note: str,
    now: datetime,
    method: str = "phone",
) -> Confirmation:
    """An operator reached the person by phone and logs it; it counts for ES48 coverage."""
    actor.require(Role.COMMUNICATOR, Role.OPERATOR, action="enregistrer un appel de confirmation")
    if method != "phone":
        raise InvalidInput("invalid_method", "Seule la méthode « phone » est manuelle.")
    delivery = await _delivery(session, delivery_id)
    if delivery.status == DeliveryStatus.CONFIRMED:
        raise Conflict("already_confirmed", "Cet envoi est déjà confirmé.")
    if delivery.status not in PHONE_CONFIRMABLE:
        raise Conflict("not_confirmable", "Cet envoi a été annulé : rien à confirmer.")
    return await _confirm(
        session,
        delivery=delivery,
        actor=actor,
        method="phone",
        confirmed_by=actor.login,
        now=now,
        details={"recipient": delivery.recipient_name, "note": note.strip()[:500]},
    )


async def delivery_for_page(session: AsyncSession, *, delivery_id: int) -> Delivery:
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("delivery_not_found", "Ce lien de confirmation ne correspond à aucun envoi.")
    return delivery
