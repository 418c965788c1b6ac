"""Who a published bulletin goes to, on which channel: the delivery requests and their texts.

One request per (recipient, channel) in each person's order of preference; with the `cascade`
strategy, rank k waits k × `cascade_minutes` and the group is the person. A contact with no
usable channel gets a `phone` request in status `to_call`. In an exercise every request has
audience `exercise` and keeps in `played_audience` the audience it stands for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from channels.kinds import ChannelKind
from contacts.targeting import Recipient, ToCall
from crisis.bulletin.record import Bulletin
from crisis.bulletin.render import PHONE, ChannelText, Content, render_channel
from crisis.dispatch import outbox
from crisis.dispatch.outbox import DeliveryRequest, DeliveryStatus, Purpose, Rendering
from crisis.errors import InvalidInput
from crisis.vocabulary import Audience, Strategy


def delivery_audience(audience: str, *, exercise: bool) -> tuple[str, str | None]:
    """(audience, played_audience) of a delivery."""
    return (Audience.EXERCISE, audience) if exercise else (audience, None)


def played_audiences(count: int, audiences: Sequence[str]) -> list[str]:
    """The audience each of `count` exercise participants plays: in turn, in the given order."""
    return [audiences[i % len(audiences)] for i in range(count)] if audiences else []


def rendering(text: ChannelText) -> Rendering:
    return Rendering(
        channel=text.channel,
        text=text.text,
        subject=text.subject,
        html=text.html,
        thread=text.parts,
    )


def checked_text(content: Content, *, channel: str, link: str, exercise: bool) -> ChannelText:
    rendered = render_channel(content, channel=channel, link=link, exercise=exercise)
    if not rendered.ok:
        raise InvalidInput(
            "rendering_failed",
            f"Le canal « {channel} » ne peut plus être rendu : "
            + " ; ".join(p.message for p in rendered.problems),
            [{"code": p.code, "message": p.message, "channel": channel} for p in rendered.problems],
        )
    return rendered


def to_call(
    *, address: str, audience: str, played_audience: str | None, name: str, contact_id: int
) -> DeliveryRequest:
    """A person must phone `name` (at `address`, when known): no usable channel."""
    return DeliveryRequest(
        channel=PHONE,
        address=address,
        audience=audience,
        played_audience=played_audience,
        recipient_name=name,
        contact_id=contact_id,
        status=DeliveryStatus.TO_CALL,
    )


def _call(
    *, address: str, audience: str, exercise: bool, name: str, contact_id: int
) -> DeliveryRequest:
    audience, played_as = delivery_audience(audience, exercise=exercise)
    return to_call(
        address=address,
        audience=audience,
        played_audience=played_as,
        name=name,
        contact_id=contact_id,
    )


def _sending(
    content: Content, *, bulletin_id: int, recipient: Recipient, audience: str, exercise: bool
) -> list[DeliveryRequest]:
    """A recipient's requests on the channels it has among the bulletin's, in its order."""
    cascade = content.strategy == Strategy.CASCADE
    step = timedelta(minutes=content.cascade_minutes)
    group = f"b{bulletin_id}:c{recipient.contact_id}" if cascade else None
    audience, played_as = delivery_audience(audience, exercise=exercise)
    usable = [c for c in recipient.channels if c.kind in content.channels]
    return [
        DeliveryRequest(
            channel=channel.kind,
            address=channel.address,
            audience=audience,
            played_audience=played_as,
            recipient_name=recipient.name,
            contact_id=recipient.contact_id,
            cascade_group=group,
            cascade_rank=rank if cascade else 0,
            delay=step * rank if cascade else timedelta(0),
        )
        for rank, channel in enumerate(usable)
    ]


def people_requests(
    content: Content,
    *,
    bulletin_id: int,
    recipients: Sequence[Recipient],
    to_call: Sequence[ToCall],
    played: Sequence[str] | None,
    exercise: bool,
) -> tuple[list[DeliveryRequest], list[DeliveryRequest]]:
    """(requests on sending channels, `to_call` requests) for the directory's people."""
    sending: list[DeliveryRequest] = []
    calls: list[DeliveryRequest] = []
    for index, recipient in enumerate(recipients):
        base = played[index] if played is not None else recipient.audience
        requests = _sending(
            content, bulletin_id=bulletin_id, recipient=recipient, audience=base, exercise=exercise
        )
        sending += requests
        if not requests:
            sms = (c.address for c in recipient.channels if c.kind == ChannelKind.SMS)
            calls.append(
                _call(
                    address=next(sms, ""),
                    audience=base,
                    exercise=exercise,
                    name=recipient.name,
                    contact_id=recipient.contact_id,
                )
            )
    offset = len(recipients)
    for index, person in enumerate(to_call):
        base = played[offset + index] if played is not None else person.audience
        calls.append(
            _call(
                address=person.phones[0] if person.phones else "",
                audience=base,
                exercise=exercise,
                name=person.name,
                contact_id=person.contact_id,
            )
        )
    return sending, calls


async def enqueue(
    session: AsyncSession,
    bulletin: Bulletin,
    *,
    renderings: list[Rendering],
    requests: list[DeliveryRequest],
    now: datetime,
) -> int:
    """Write the bulletin's deliveries to the outbox; how many were written."""
    enqueued = await outbox.enqueue(
        session,
        purpose=Purpose.BULLETIN,
        crisis_id=bulletin.crisis_id,
        bulletin_id=bulletin.id,
        exercise=bulletin.exercise,
        renderings=renderings,
        requests=requests,
        now=now,
    )
    return enqueued.deliveries
