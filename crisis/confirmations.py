"""Receipt confirmations: a signed single-use link per delivery, or a logged phone call.

A confirmation marks the delivery `confirmed` (method `link` or `phone`) and cancels what
is still waiting for the same person on the same bulletin: the later ranks of a cascade,
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
from crisis.bulletin_render import CONFIRM_PLACEHOLDER
from crisis.errors import Conflict, InvalidInput, NotFound
from crisis.outbox import Delivery, DeliveryStatus

SALT = "tocsin-confirmation"
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


def personalise(text: str, *, delivery_id: int, secret: str, base_url: str) -> str:
    """The text one person receives: `CONFIRM_PLACEHOLDER` becomes their own signed link."""
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
        .values(status=DeliveryStatus.CANCELLED, last_error="accusé de réception reçu")
    )
    return result.rowcount


async def confirm_by_link(
    session: AsyncSession, *, token: str, secret: str, now: datetime
) -> Confirmation:
    """The recipient followed their link: single use, a second visit changes nothing."""
    delivery = await _delivery(session, delivery_of(token, secret=secret))
    if delivery.status == DeliveryStatus.CONFIRMED:
        return Confirmation(delivery, 0, already=True)
    if delivery.status == DeliveryStatus.CANCELLED:
        return Confirmation(delivery, 0, already=True)
    delivery.status = DeliveryStatus.CONFIRMED
    delivery.confirmed_at, delivery.confirm_method = now, "link"
    delivery.confirmed_by = delivery.recipient_name or delivery.address
    session.add(delivery)
    await session.flush()
    cancelled = await cancel_remaining(session, delivery=delivery)
    await journal.append(
        session,
        actor=Actor(None, "destinataire", frozenset()),
        action="delivery.confirmed",
        now=now,
        crisis_id=delivery.crisis_id,
        payload={
            "delivery_id": delivery.id,
            "bulletin_id": delivery.bulletin_id,
            "contact_id": delivery.contact_id,
            "channel": delivery.channel,
            "method": "link",
            "cancelled": cancelled,
        },
    )
    return Confirmation(delivery, cancelled)


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
    delivery.status = DeliveryStatus.CONFIRMED
    delivery.confirmed_at, delivery.confirm_method = now, "phone"
    delivery.confirmed_by = actor.login
    session.add(delivery)
    await session.flush()
    cancelled = await cancel_remaining(session, delivery=delivery)
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
            "recipient": delivery.recipient_name,
            "method": "phone",
            "note": note.strip()[:500],
            "cancelled": cancelled,
        },
    )
    return Confirmation(delivery, cancelled)


async def delivery_for_page(session: AsyncSession, *, delivery_id: int) -> Delivery:
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("delivery_not_found", "Ce lien de confirmation ne correspond à aucun envoi.")
    return delivery
