"""Publishing a bulletin: every delivery written in the transaction that publishes it.

One delivery per (recipient, channel) in each person's order of preference; with the
`cascade` strategy, rank k waits k × `cascade_minutes` and the group is the person. A
contact with no usable channel gets a `phone` delivery in status `to_call`. The public
gets the configured public accounts and the public page (live at once, hence `sent`).

In an exercise crisis, only `exercise` contacts and the sandbox accounts are targeted,
whatever the bulletin names; every delivery has audience `exercise` and keeps in
`played_audience` the audience it stands for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.addresses import AddressError, normalise
from contacts.targeting import Recipient, ToCall, target
from crisis import journal
from crisis.accounts import User
from crisis.actors import Actor, Role
from crisis.bulletin.render import (
    CONFIRM_PLACEHOLDER,
    PHONE,
    PUBLIC_PAGE,
    ChannelText,
    Content,
    content_hash,
    phone_script,
    public_link,
    render_channel,
    with_confirmation,
)
from crisis.bulletin.workflow import Bulletin, BulletinStatus, ChannelPolicy, get
from crisis.cell import crises
from crisis.cell.crises import CrisisStatus
from crisis.dispatch import outbox
from crisis.dispatch.outbox import Delivery, DeliveryRequest, DeliveryStatus, Purpose, Rendering
from crisis.errors import Conflict, InvalidInput

DIRECTORY_AUDIENCES = ("officials", "media", "staff")
EXERCISE = "exercise"


@dataclass(frozen=True, slots=True)
class Published:
    bulletin: Bulletin
    deliveries: int
    to_call: int
    public: int


def _audience(audience: str, *, exercise: bool) -> tuple[str, str | None]:
    """(audience, played_audience) of a delivery."""
    return (EXERCISE, audience) if exercise else (audience, None)


def played_audiences(count: int, audiences: Sequence[str]) -> list[str]:
    """The audience each of `count` exercise participants plays: in turn, in the given order."""
    return [audiences[i % len(audiences)] for i in range(count)] if audiences else []


def _people_requests(
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
    cascade = content.strategy == "cascade"
    step = timedelta(minutes=content.cascade_minutes)
    wanted = set(content.channels)
    for index, recipient in enumerate(recipients):
        base = played[index] if played is not None else recipient.audience
        audience, played_as = _audience(base, exercise=exercise)
        group = f"b{bulletin_id}:c{recipient.contact_id}" if cascade else None
        usable = [c for c in recipient.channels if c.kind in wanted]
        if not usable:
            sms = next((c.address for c in recipient.channels if c.kind == "sms"), "")
            calls.append(
                DeliveryRequest(
                    channel=PHONE,
                    address=sms,
                    audience=audience,
                    played_audience=played_as,
                    recipient_name=recipient.name,
                    contact_id=recipient.contact_id,
                    status=DeliveryStatus.TO_CALL,
                )
            )
            continue
        for rank, channel in enumerate(usable):
            sending.append(
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
            )
    offset = len(recipients)
    for index, person in enumerate(to_call):
        base = played[offset + index] if played is not None else person.audience
        audience, played_as = _audience(base, exercise=exercise)
        calls.append(
            DeliveryRequest(
                channel=PHONE,
                address=person.phones[0] if person.phones else "",
                audience=audience,
                played_audience=played_as,
                recipient_name=person.name,
                contact_id=person.contact_id,
                status=DeliveryStatus.TO_CALL,
            )
        )
    return sending, calls


def _rendering(text: ChannelText) -> Rendering:
    return Rendering(
        channel=text.channel,
        text=text.text,
        subject=text.subject,
        html=text.html,
        thread=text.parts,
    )


def _checked_text(content: Content, *, channel: str, link: str, exercise: bool) -> ChannelText:
    rendered = render_channel(content, channel=channel, link=link, exercise=exercise)
    if not rendered.ok:
        raise InvalidInput(
            "rendering_failed",
            f"Le canal « {channel} » ne peut plus être rendu : "
            + " ; ".join(p.message for p in rendered.problems),
            [{"code": p.code, "message": p.message, "channel": channel} for p in rendered.problems],
        )
    return rendered


async def publish(
    session: AsyncSession,
    *,
    actor: Actor,
    bulletin_id: int,
    policy: ChannelPolicy,
    now: datetime,
) -> Published:
    """Publish an approved, unchanged bulletin: all its deliveries in this transaction."""
    actor.require(Role.COMMUNICATOR, action="publier un communiqué")
    bulletin = await get(session, bulletin_id=bulletin_id, lock=True)
    if bulletin.status == BulletinStatus.PUBLISHED:
        raise Conflict("already_published", "Ce communiqué est déjà publié.")
    if bulletin.status != BulletinStatus.APPROVED:
        raise Conflict(
            "not_approved", "Seul un communiqué validé par une autre personne peut être publié."
        )
    content = bulletin.content()
    if content_hash(content) != bulletin.approved_hash or (
        bulletin.content_hash != bulletin.approved_hash
    ):
        raise Conflict(
            "changed_since_approval",
            "Le communiqué a changé depuis sa validation : il doit être validé à nouveau.",
        )
    crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
    if crisis.status == CrisisStatus.CLOSED:
        raise Conflict("crisis_closed", "L'événement est clos : plus aucune publication.")
    assert bulletin.id is not None
    exercise = crisis.is_exercise
    link = public_link(policy.base_url, bulletin.id)

    directory = [a for a in content.audiences if a in DIRECTORY_AUDIENCES]
    sending: list[DeliveryRequest] = []
    calls: list[DeliveryRequest] = []
    if directory:
        targeting = await target(
            session, communes=list(content.communes), audiences=directory, exercise=exercise
        )
        people = len(targeting.recipients) + len(targeting.to_call)
        played = played_audiences(people, directory) if exercise else None
        sending, calls = _people_requests(
            content,
            bulletin_id=bulletin.id,
            recipients=targeting.recipients,
            to_call=targeting.to_call,
            played=played,
            exercise=exercise,
        )
    texts = {
        channel: _checked_text(content, channel=channel, link=link, exercise=exercise)
        for channel in dict.fromkeys(r.channel for r in sending)
    }
    if content.confirm_receipt:
        texts = {c: with_confirmation(t, link=CONFIRM_PLACEHOLDER) for c, t in texts.items()}
    renderings = [_rendering(t) for t in texts.values()]
    if calls:
        script = phone_script(content, exercise=exercise)
        renderings.append(Rendering(channel=PHONE, text=script, subject=content.title))
    written = 0
    if renderings:
        enqueued = await outbox.enqueue(
            session,
            purpose=Purpose.BULLETIN,
            renderings=renderings,
            requests=[*sending, *calls],
            now=now,
            exercise=exercise,
            crisis_id=crisis.id,
            bulletin_id=bulletin.id,
        )
        written += enqueued.deliveries
    public = await _publish_public(
        session, content=content, bulletin=bulletin, policy=policy, link=link, now=now
    )
    bulletin.status = BulletinStatus.PUBLISHED
    bulletin.published_at, bulletin.published_by, bulletin.updated_at = now, actor.login, now
    session.add(bulletin)
    await journal.append(
        session,
        actor=actor,
        action="bulletin.published",
        now=now,
        crisis_id=bulletin.crisis_id,
        payload={
            "bulletin_id": bulletin.id,
            "title": bulletin.title,
            "msg_type": bulletin.msg_type,
            "references": bulletin.reference_ids,
            "content_hash": bulletin.content_hash,
            "approved_by": bulletin.approved_by,
            "deliveries": written + public,
            "to_call": len(calls),
            "public": public,
            "exercise": exercise,
        },
    )
    return Published(bulletin, written + public, len(calls), public)


async def _publish_public(
    session: AsyncSession,
    *,
    content: Content,
    bulletin: Bulletin,
    policy: ChannelPolicy,
    link: str,
    now: datetime,
) -> int:
    """The public accounts (sandbox ones in an exercise) and the public page, marked sent."""
    if "public" not in content.audiences:
        return 0
    exercise = bulletin.exercise
    accounts = policy.accounts(exercise=exercise)
    channels = [c for c in content.channels if c in accounts and c != PUBLIC_PAGE]
    audience, played_as = _audience("public", exercise=exercise)
    requests = [
        DeliveryRequest(
            channel=c, address=accounts[c], audience=audience, played_audience=played_as
        )
        for c in channels
    ]
    requests.append(
        DeliveryRequest(
            channel=PUBLIC_PAGE,
            address=link,
            audience=audience,
            played_audience=played_as,
            recipient_name="Page publique",
            status=DeliveryStatus.SENT,
        )
    )
    renderings = [
        _rendering(_checked_text(content, channel=c, link=link, exercise=exercise))
        for c in [*channels, PUBLIC_PAGE]
    ]
    enqueued = await outbox.enqueue(
        session,
        purpose=Purpose.BULLETIN,
        renderings=renderings,
        requests=requests,
        now=now,
        exercise=exercise,
        crisis_id=bulletin.crisis_id,
        bulletin_id=bulletin.id,
    )
    await session.exec(
        sa.update(Delivery)
        .where(
            Delivery.bulletin_id == bulletin.id,  # type: ignore[arg-type]
            Delivery.channel == PUBLIC_PAGE,  # type: ignore[arg-type]
        )
        .values(sent_at=now, attempts=1)
    )
    return enqueued.deliveries


@dataclass(frozen=True)
class SelfTest:
    deliveries: int
    address: str


async def _test_address(
    session: AsyncSession, *, actor: Actor, channel: str, address: str | None, remember: bool
) -> str:
    """The address typed, else the actor's e-mail; checked for its channel. With `remember`,
    an e-mail typed becomes the actor's own (the page offers it next time)."""
    typed = (address or "").strip()
    user = await session.get(User, actor.user_id) if actor.user_id is not None else None
    if not typed and user is not None and channel == "email":
        typed = (user.email or "").strip()
    if not typed:
        raise InvalidInput("address_required", "Indiquez votre adresse pour recevoir le test.")
    try:
        checked = normalise(channel, typed)
    except AddressError as error:
        raise InvalidInput("invalid_address", f"Adresse invalide : {error}.") from error
    if remember and user is not None and channel == "email" and user.email != checked:
        user.email = checked
        session.add(user)
    return checked


async def send_test(
    session: AsyncSession,
    *,
    actor: Actor,
    bulletin_id: int,
    channel: str,
    address: str | None,
    policy: ChannelPolicy,
    now: datetime,
    remember: bool = False,
) -> SelfTest:
    """Send the bulletin as it would go out to the actor's own address (before publication)."""
    actor.require(
        Role.COMMUNICATOR, Role.VALIDATOR, Role.PREFECT, action="s'envoyer un test du communiqué"
    )
    bulletin = await get(session, bulletin_id=bulletin_id)
    if bulletin.status == BulletinStatus.PUBLISHED:
        raise Conflict("already_published", "Ce communiqué est déjà publié.")
    if channel not in ("email", "sms", "telegram", "matrix"):
        raise InvalidInput("invalid_test_channel", "Test possible par courriel, SMS, Telegram.")
    address = await _test_address(
        session, actor=actor, channel=channel, address=address, remember=remember
    )
    assert bulletin.id is not None
    content = bulletin.content()
    link = public_link(policy.base_url, bulletin.id)
    text = _checked_text(content, channel=channel, link=link, exercise=bulletin.exercise)
    rendering = _rendering(text)
    rendering = Rendering(
        channel=channel,
        text="[TEST — NE PAS DIFFUSER]\n\n" + rendering.text,
        subject="[TEST] " + rendering.subject,
        html=rendering.html,
    )
    audience, played_as = _audience("staff", exercise=bulletin.exercise)
    enqueued = await outbox.enqueue(
        session,
        purpose=Purpose.TEST,
        renderings=[rendering],
        requests=[
            DeliveryRequest(
                channel=channel,
                address=address,
                audience=audience,
                played_audience=played_as,
                recipient_name=actor.login,
            )
        ],
        now=now,
        exercise=bulletin.exercise,
        crisis_id=bulletin.crisis_id,
        bulletin_id=bulletin.id,
    )
    await journal.append(
        session,
        actor=actor,
        action="bulletin.test_sent",
        now=now,
        crisis_id=bulletin.crisis_id,
        payload={
            "bulletin_id": bulletin.id,
            "channel": channel,
            "content_hash": bulletin.content_hash,
        },
    )
    return SelfTest(deliveries=enqueued.deliveries, address=address)
