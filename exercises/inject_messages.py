"""An inject, sent: to the drill's participants only, as exercise messages of its crisis.

The same path as the drill's start and end messages (`exercises.messages`): audience
``exercise``, so that the dispatcher's isolation carries it over the exercise channels only;
every text starts with the exercise prefix. The inject's audience is recorded as the audience
played (``played_audience``), its channel is the participant's address of that kind if any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import ContactChannel
from crisis.cell import paging
from crisis.vocabulary import Audience
from exercises.injects import Inject
from exercises.messages import active_participants, enqueue_to_participants

__all__ = ["PREFIX", "send"]

PREFIX = f"{paging.EXERCISE_PREFIX} — "


async def _addresses(
    session: AsyncSession, contact_ids: Sequence[int], kind: str | None
) -> dict[int, tuple[str, str]]:
    """Each contact's address on the inject's channel, else their first usable channel."""
    chosen = await paging.first_channels(session, contact_ids=contact_ids)
    if kind is None:
        return chosen
    query = (
        select(ContactChannel)
        .where(
            col(ContactChannel.contact_id).in_(sorted(set(contact_ids))),
            col(ContactChannel.active),
            ContactChannel.kind == kind,
        )
        .order_by(col(ContactChannel.preference), col(ContactChannel.id))
    )
    on_kind: dict[int, tuple[str, str]] = {}
    for channel in (await session.exec(query)).all():
        on_kind.setdefault(channel.contact_id, (channel.kind, channel.address))
    return chosen | on_kind


async def send(
    session: AsyncSession,
    *,
    inject: Inject,
    participants: Sequence[int],
    crisis_id: int,
    title: str,
    now: datetime,
) -> int:
    """The inject's text to its target among the participants; the deliveries written."""
    wanted = [inject.contact_id] if inject.contact_id is not None else list(participants)
    people = await active_participants(session, [c for c in wanted if c in participants])
    if not people:
        return 0
    channels = await _addresses(session, [cid for cid, _ in people], inject.channel)
    played = inject.audience or Audience.STAFF.value
    requests = [
        replace(
            paging.request_for(channel=channels.get(cid), name=name, contact_id=cid, exercise=True),
            played_audience=played,
        )
        for cid, name in people
    ]
    text = f"{PREFIX}{inject.text}"
    subject = f"{PREFIX}Exercice « {title} » : nouvel élément du scénario"
    return await enqueue_to_participants(
        session, requests, text=text, subject=subject, link=None, now=now, crisis_id=crisis_id
    )
