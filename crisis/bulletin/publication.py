"""Publishing a bulletin: every delivery written in the transaction that publishes it.

One delivery per (recipient, channel) in each person's order of preference; with the
`cascade` strategy, rank k waits k × `cascade_minutes` and the group is the person. A
contact with no usable channel gets a `phone` delivery in status `to_call`. The public
gets the configured public accounts and the public page (live at once, hence `sent`).

In an exercise crisis, only `exercise` contacts and the sandbox accounts are targeted,
whatever the bulletin names; every delivery has audience `exercise` and keeps in
`played_audience` the audience it stands for.

The webhook (the prefecture's site) also carries the public page's address and the bulletin's
CAP alert, made by the `cap` the caller passes (`crisis.public.mirror`) once the bulletin is
marked published in this transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.kinds import ChannelKind
from contacts.targeting import target
from crisis import journal
from crisis.actors import Actor, Role
from crisis.bulletin import fanout
from crisis.bulletin.fanout import checked_text as _checked_text
from crisis.bulletin.fanout import delivery_audience as _audience
from crisis.bulletin.fanout import people_requests, played_audiences
from crisis.bulletin.fanout import rendering as _rendering
from crisis.bulletin.public import link_of
from crisis.bulletin.render import (
    CONFIRM_PLACEHOLDER,
    PHONE,
    PUBLIC_PAGE,
    Content,
    content_hash,
    phone_script,
    with_confirmation,
)
from crisis.bulletin.workflow import Bulletin, ChannelPolicy, get
from crisis.cell import checklist, crises
from crisis.dispatch.outbox import Delivery, DeliveryRequest, DeliveryStatus, Rendering
from crisis.errors import Conflict
from crisis.vocabulary import Audience, BulletinStatus, CrisisMode, CrisisStatus

__all__ = ["Published", "played_audiences", "publish"]

DIRECTORY_AUDIENCES = (Audience.OFFICIALS, Audience.MEDIA, Audience.STAFF)
CapMaker = Callable[[AsyncSession, Bulletin], Awaitable[str | None]]
"""The CAP alert (XML) of a bulletin just marked published, None when it is not public."""


@dataclass(frozen=True, slots=True)
class Published:
    bulletin: Bulletin
    deliveries: int
    to_call: int
    public: int


def _publishable(bulletin: Bulletin) -> Content:
    """The approved content, refused when it is not approved or has changed since."""
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
    return content


@dataclass(frozen=True, slots=True)
class Mirror:
    """What the prefecture's site gets besides the text: the public page and the CAP alert."""

    link: str
    cap: str | None

    def on(self, channel: str, rendering: Rendering) -> Rendering:
        if channel != ChannelKind.WEBHOOK:
            return rendering
        return replace(rendering, link=self.link or None, cap=self.cap)


async def _publish_people(
    session: AsyncSession,
    *,
    content: Content,
    bulletin: Bulletin,
    link: str,
    exercise: bool,
    now: datetime,
) -> tuple[int, int]:
    """(deliveries written, people to call) for the directory's audiences of the bulletin."""
    assert bulletin.id is not None
    directory = [a for a in content.audiences if a in DIRECTORY_AUDIENCES]
    if not directory:
        return 0, 0
    targeting = await target(
        session, communes=list(content.communes), audiences=directory, exercise=exercise
    )
    people = len(targeting.recipients) + len(targeting.to_call)
    sending, calls = people_requests(
        content,
        bulletin_id=bulletin.id,
        recipients=targeting.recipients,
        to_call=targeting.to_call,
        played=played_audiences(people, directory) if exercise else None,
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
    if not renderings:
        return 0, 0
    requests = [*sending, *calls]
    written = await fanout.enqueue(
        session, bulletin, renderings=renderings, requests=requests, now=now
    )
    return written, len(calls)


async def publish(
    session: AsyncSession,
    *,
    actor: Actor,
    bulletin_id: int,
    policy: ChannelPolicy,
    now: datetime,
    cap: CapMaker | None = None,
) -> Published:
    """Publish an approved, unchanged bulletin: all its deliveries in this transaction."""
    actor.require(Role.COMMUNICATOR, action="publier un communiqué")
    bulletin = await get(session, bulletin_id=bulletin_id, lock=True)
    content = _publishable(bulletin)
    crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
    if crisis.status == CrisisStatus.CLOSED:
        raise Conflict("crisis_closed", "L'événement est clos : plus aucune publication.")
    assert bulletin.id is not None
    exercise = crisis.is_exercise
    link = link_of(bulletin, base_url=policy.base_url)  # "" unless the public is aimed at
    bulletin.status = BulletinStatus.PUBLISHED
    bulletin.published_at, bulletin.published_by, bulletin.updated_at = now, actor.login, now
    session.add(bulletin)
    await session.flush()  # published in this transaction: its CAP alert can be read
    written, to_call = await _publish_people(
        session, content=content, bulletin=bulletin, link=link, exercise=exercise, now=now
    )
    mirrored = cap is not None and link and ChannelKind.WEBHOOK in content.channels
    mirror = Mirror(link, await cap(session, bulletin) if mirrored and cap else None)
    public = await _publish_public(
        session, content=content, bulletin=bulletin, policy=policy, mirror=mirror, now=now
    )
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
            "author": bulletin.author,
            "editors": bulletin.editor_logins,
            "approved_by": bulletin.approved_by,
            "deliveries": written + public,
            "to_call": to_call,
            "public": public,
            CrisisMode.EXERCISE: exercise,
        },
    )
    await checklist.saw_publication(session, actor=actor, crisis_id=bulletin.crisis_id, now=now)
    return Published(bulletin, written + public, to_call, public)


async def _publish_public(
    session: AsyncSession,
    *,
    content: Content,
    bulletin: Bulletin,
    policy: ChannelPolicy,
    mirror: Mirror,
    now: datetime,
) -> int:
    """The public accounts (sandbox ones in an exercise) and the public page, marked sent."""
    if Audience.PUBLIC not in content.audiences:
        return 0
    exercise, link = bulletin.exercise, mirror.link
    accounts = policy.accounts(exercise=exercise)
    channels = [c for c in content.channels if c in accounts and c != PUBLIC_PAGE]
    audience, played_as = _audience(Audience.PUBLIC, exercise=exercise)
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
        mirror.on(c, _rendering(_checked_text(content, channel=c, link=link, exercise=exercise)))
        for c in [*channels, PUBLIC_PAGE]
    ]
    written = await fanout.enqueue(
        session, bulletin, renderings=renderings, requests=requests, now=now
    )
    await session.exec(
        sa.update(Delivery)
        .where(
            Delivery.bulletin_id == bulletin.id,  # type: ignore[arg-type]
            Delivery.channel == PUBLIC_PAGE,  # type: ignore[arg-type]
        )
        .values(sent_at=now, attempts=1)
    )
    return written
