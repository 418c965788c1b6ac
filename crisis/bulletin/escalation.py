"""Leader-only ticks that keep a fan-out moving: cascades, and officials to phone.

- A cascade moves on as soon as a rank has failed: the next rank's `next_attempt_at` is
  brought to now instead of waiting its delay. When the bulletin asks no confirmation, a
  rank that was sent ends the cascade (the later ranks are `cancelled`); when it asks one,
  only a confirmation ends it (`crisis.bulletin.confirmations`).
- An official with no delivered message (`sent` or `confirmed`) `to_call_after` after
  publication gets one `phone` delivery in status `to_call`, once per person and bulletin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from channels.kinds import ChannelKind
from contacts.directory import AddressKind, ContactChannel
from crisis import journal
from crisis.actors import SYSTEM
from crisis.bulletin import fanout
from crisis.bulletin.render import PHONE, phone_script
from crisis.bulletin.workflow import Bulletin
from crisis.dispatch.outbox import Delivery, DeliveryStatus, Purpose, Rendering
from crisis.vocabulary import Audience, BulletinStatus, Strategy

LOOKBACK = timedelta(hours=48)
DELIVERED = [DeliveryStatus.SENT.value, DeliveryStatus.CONFIRMED.value]


@dataclass(frozen=True, slots=True)
class TickReport:
    advanced: int = 0
    stopped: int = 0
    to_call: int = 0


async def advance_cascades(session: AsyncSession, *, now: datetime) -> tuple[int, int]:
    """(ranks brought forward after a failure, ranks cancelled after a send)."""
    table = Delivery.__table__  # type: ignore[attr-defined]
    previous = table.alias("previous")
    failed_before = (
        sa.select(previous.c.id)
        .where(
            previous.c.cascade_group == table.c.cascade_group,
            previous.c.cascade_rank == table.c.cascade_rank - 1,
            previous.c.status == DeliveryStatus.FAILED.value,
        )
        .exists()
    )
    advanced = await session.exec(
        sa.update(table)
        .where(
            table.c.status == DeliveryStatus.PENDING.value,
            table.c.cascade_group.is_not(None),
            table.c.cascade_rank > 0,
            table.c.next_attempt_at > now,
            failed_before,
        )
        .values(next_attempt_at=now)
    )
    sent_before = (
        sa.select(previous.c.id)
        .where(
            previous.c.cascade_group == table.c.cascade_group,
            previous.c.cascade_rank < table.c.cascade_rank,
            previous.c.status.in_(DELIVERED),
        )
        .exists()
    )
    no_confirmation = sa.select(Bulletin.id).where(  # type: ignore[call-overload]
        col(Bulletin.confirm_receipt).is_(False),
        col(Bulletin.strategy) == Strategy.CASCADE,
        col(Bulletin.published_at) >= now - LOOKBACK,
    )
    # Both queries name the predicate of ``ix_delivery_cascade_waiting`` (ranks not yet
    # settled): ``next_attempt_at > now`` implies it, and the second says it.
    stopped = await session.exec(
        sa.update(table)
        .where(
            table.c.next_attempt_at.is_not(None),
            table.c.status == DeliveryStatus.PENDING.value,
            table.c.cascade_group.is_not(None),
            table.c.bulletin_id.in_(no_confirmation),
            sent_before,
        )
        .values(
            status=DeliveryStatus.CANCELLED.value,
            next_attempt_at=None,
            last_error="reçu sur un canal précédent",
        )
    )
    return advanced.rowcount, stopped.rowcount


async def _unreached_officials(
    session: AsyncSession, *, bulletin_id: int
) -> list[tuple[int, str, str, str | None, str]]:
    """(contact, name, audience, played audience, sms number) of officials still unreached."""
    d = Delivery.__table__.c  # type: ignore[attr-defined]
    done = sa.func.sum(sa.case((sa.or_(d.status.in_(DELIVERED), d.channel == PHONE), 1), else_=0))
    sms = sa.func.max(sa.case((d.channel == ChannelKind.SMS, d.address), else_=None))
    query = (
        sa.select(
            d.contact_id,
            sa.func.max(d.recipient_name),
            sa.func.max(d.audience),
            sa.func.max(d.played_audience),
            sms,
        )
        .where(
            d.bulletin_id == bulletin_id,
            d.purpose == Purpose.BULLETIN.value,
            d.contact_id.is_not(None),
            sa.or_(d.audience == Audience.OFFICIALS, d.played_audience == Audience.OFFICIALS),
        )
        .group_by(d.contact_id)
        .having(done == 0)
        .order_by(d.contact_id)
    )
    rows = (await (await session.connection()).execute(query)).all()
    return [(r[0], r[1] or "", r[2], r[3], r[4] or "") for r in rows]


async def _phones(session: AsyncSession, contact_ids: list[int]) -> dict[int, str]:
    query = (
        select(ContactChannel.contact_id, ContactChannel.address)
        .where(
            col(ContactChannel.contact_id).in_(contact_ids),
            ContactChannel.kind == AddressKind.PHONE,
            col(ContactChannel.active).is_(True),
        )
        .order_by(col(ContactChannel.preference).desc())
    )
    return dict((await session.exec(query)).all())


async def escalate_to_call(session: AsyncSession, *, now: datetime, after: timedelta) -> int:
    """Put on the to-call list every official with nothing delivered `after` publication."""
    bulletins = (
        await session.exec(
            select(Bulletin).where(
                Bulletin.status == BulletinStatus.PUBLISHED,
                col(Bulletin.published_at) <= now - after,
                col(Bulletin.published_at) >= now - LOOKBACK,
            )
        )
    ).all()
    created = 0
    for bulletin in bulletins:
        assert bulletin.id is not None
        unreached = await _unreached_officials(session, bulletin_id=bulletin.id)
        if not unreached:
            continue
        phones = await _phones(session, [u[0] for u in unreached])
        requests = [
            fanout.to_call(
                address=phones.get(contact_id, sms),
                audience=audience,
                played_audience=played,
                name=name,
                contact_id=contact_id,
            )
            for contact_id, name, audience, played, sms in unreached
        ]
        script = phone_script(bulletin.content(), exercise=bulletin.exercise)
        call = Rendering(channel=PHONE, text=script, subject=bulletin.title)
        await fanout.enqueue(session, bulletin, renderings=[call], requests=requests, now=now)
        await journal.append(
            session,
            actor=SYSTEM,
            action="bulletin.to_call",
            now=now,
            crisis_id=bulletin.crisis_id,
            payload={
                "bulletin_id": bulletin.id,
                "count": len(requests),
                "contact_ids": [r.contact_id for r in requests],
                "after_minutes": int(after.total_seconds() // 60),
            },
        )
        created += len(requests)
    return created


async def tick(session: AsyncSession, *, now: datetime, to_call_after: timedelta) -> TickReport:
    """One pass of both rules, in the caller's transaction."""
    advanced, stopped = await advance_cascades(session, now=now)
    to_call = await escalate_to_call(session, now=now, after=to_call_after)
    if advanced or stopped:
        await journal.append(
            session,
            actor=SYSTEM,
            action="bulletin.cascade_moved",
            now=now,
            payload={"advanced": advanced, "stopped": stopped},
        )
    return TickReport(advanced, stopped, to_call)
