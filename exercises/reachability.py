"""The reachability test: one fixed, marked text to real officials' own private channels.

The only drill that reaches real people, so everything it may vary is fixed here:

- the text is `TEXT`, always, whatever the request (no title, link or code is added);
- the channels are the officials' own addresses (`contacts.directory.SENDING_KINDS`: e-mail,
  SMS, Telegram chat, Matrix), every active one; public accounts (X, Mastodon, a public
  Telegram channel, a webhook) are channel kinds no contact address can hold, and are never
  asked for;
- only active contacts of the « élus » audience (`officials`) are reached;
- it is sent only once a prefect approved it (`exercises.approval`): without, 409;
- at most once per `window` (30 days by default) per contact: a send that names any contact
  reached inside the window is refused with 409 and the list of those contacts, nothing
  written;
- each send is journaled (`exercise.reachability_sent`) like a bulletin: who, how many, the
  messages written.

The deliveries carry the purpose `check`: an « OK » reply from the official's address on that
channel (Telegram, SMS) confirms the delivery it answers (`crisis.replies`), with its time.
The result names the officials whose every delivery failed, those who never answered (no
delivery confirmed before the run ended) and those who did, with the time of their answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import SENDING_KINDS, Contact, ContactAudience, ContactChannel
from crisis import journal
from crisis.actors import Actor
from crisis.dispatch import outbox
from crisis.dispatch.outbox import Delivery, DeliveryRequest, OutboxMessage, Purpose, Rendering
from exercises.errors import DrillConflict, DrillRefused

__all__ = ["TEXT", "WINDOW", "Reached", "Result", "checked_officials", "result", "send"]

TEXT = "TEST — message de vérification, aucune action requise ; répondez OK"
SUBJECT = "TEST — message de vérification"
WINDOW = timedelta(days=30)
MAX_OFFICIALS = 5000


@dataclass(frozen=True, slots=True)
class Reached:
    officials: list[int]
    messages: dict[str, int]
    deliveries: int


@dataclass(frozen=True, slots=True)
class Result:
    unreachable: list[tuple[int, str]]  # every channel failed
    silent: list[tuple[int, str]]  # reached, never answered « OK »
    answered: list[tuple[int, str]]
    answered_at: dict[int, datetime] = field(default_factory=dict)  # their first answer

    def view(self) -> dict[str, Any]:
        def people(rows: list[tuple[int, str]]) -> list[dict[str, Any]]:
            return [{"contact_id": i, "name": name} for i, name in rows]

        return {
            "officials": len(self.unreachable) + len(self.silent) + len(self.answered),
            "answered": len(self.answered),
            "answered_people": [
                {
                    "contact_id": i,
                    "name": name,
                    "answered_at": at.isoformat() if (at := self.answered_at.get(i)) else None,
                }
                for i, name in self.answered
            ],
            "unreachable": people(self.unreachable),
            "silent": people(self.silent),
        }


async def checked_officials(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise DrillRefused("no_official", "Choisissez au moins un élu à joindre.")
    if len(wanted) > MAX_OFFICIALS:
        raise DrillRefused("too_many_officials", "Trop d'élus pour un test de joignabilité.")
    query = select(Contact).where(
        col(Contact.id).in_(wanted),
        Contact.audience == ContactAudience.OFFICIALS,
        col(Contact.active),
    )
    found = {c.id: c.display_name for c in (await session.exec(query)).all() if c.id}
    refused = [i for i in wanted if i not in found]
    if refused:
        raise DrillRefused(
            "not_official",
            "Seuls des élus actifs de l'annuaire peuvent recevoir un test de joignabilité.",
            {"refused": refused},
        )
    return found


async def _private_channels(session: AsyncSession, ids: Sequence[int]) -> list[ContactChannel]:
    query = (
        select(ContactChannel)
        .where(
            col(ContactChannel.contact_id).in_(sorted(ids)),
            col(ContactChannel.active),
            col(ContactChannel.kind).in_(sorted(SENDING_KINDS)),
        )
        .order_by(col(ContactChannel.contact_id), col(ContactChannel.preference))
    )
    return list((await session.exec(query)).all())


async def reached_since(session: AsyncSession, ids: Sequence[int], since: datetime) -> list[int]:
    """The contacts among `ids` a reachability test was written for after `since`."""
    query = (
        select(Delivery.contact_id)
        .join(OutboxMessage, col(OutboxMessage.id) == Delivery.message_id)
        .where(
            col(Delivery.contact_id).in_(sorted(ids)),
            col(Delivery.created_at) > since,
            col(OutboxMessage.purpose).in_([Purpose.CHECK.value, Purpose.TEST.value]),
            OutboxMessage.text == TEXT,
        )
    )
    return sorted({i for i in (await session.exec(query)).all() if i is not None})


async def _allowed(
    session: AsyncSession,
    approved_by: str | None,
    officials: Sequence[int],
    *,
    now: datetime,
    window: timedelta,
) -> dict[int, str]:
    """The officials' names, once the test is approved and none was tested within `window`."""
    if not approved_by:
        raise DrillConflict(
            "not_approved",
            "Ce test de joignabilité attend l'approbation du préfet.",
        )
    names = await checked_officials(session, officials)
    recent = await reached_since(session, list(names), now - window)
    if recent:
        days = window.days
        raise DrillConflict(
            "reachability_too_soon",
            f"Test de joignabilité refusé : ces élus en ont reçu un il y a moins de {days} "
            "jours : " + ", ".join(names[i] for i in recent) + ".",
            {"recent": recent},
        )
    return names


async def send(
    session: AsyncSession,
    *,
    actor: Actor,
    approved_by: str | None,
    officials: Sequence[int],
    now: datetime,
    window: timedelta = WINDOW,
) -> Reached:
    """The fixed test to every private channel of each official; refused, nothing written:
    409 without a prefect's approval, 422 for a non-official, 409 inside the window."""
    names = await _allowed(session, approved_by, officials, now=now, window=window)
    channels = await _private_channels(session, list(names))
    requests = [
        DeliveryRequest(
            channel=ch.kind,
            address=ch.address,
            audience=ContactAudience.OFFICIALS.value,
            recipient_name=names[ch.contact_id],
            contact_id=ch.contact_id,
        )
        for ch in channels
    ]
    kinds = sorted({r.channel for r in requests})
    written = outbox.Enqueued({}, 0)
    if requests:
        written = await outbox.enqueue(
            session,
            purpose=Purpose.CHECK,
            renderings=[Rendering(channel=k, text=TEXT, subject=SUBJECT) for k in kinds],
            requests=requests,
            now=now,
            exercise=False,
        )
    await journal.append(
        session,
        actor=actor,
        action="exercise.reachability_sent",
        now=now,
        payload={
            "officials": sorted(names),
            "without_channel": sorted(set(names) - {ch.contact_id for ch in channels}),
            "messages": written.messages,
            "deliveries": written.deliveries,
            "text": TEXT,
            "approved_by": approved_by,
        },
    )
    return Reached(sorted(names), written.messages, written.deliveries)


async def result(
    session: AsyncSession,
    *,
    officials: Sequence[int],
    message_ids: Sequence[int],
    until: datetime | None = None,
) -> Result:
    """Who could not be reached on any channel, who never answered, who did (an answer after
    `until`, the run's end, does not count: the run was over)."""
    names = await _names(session, officials)
    statuses: dict[int, set[str]] = {i: set() for i in officials}
    first: dict[int, datetime] = {}
    if message_ids:
        query = select(Delivery.contact_id, Delivery.status, Delivery.confirmed_at).where(
            col(Delivery.message_id).in_(sorted(message_ids))
        )
        for contact_id, status, confirmed_at in (await session.exec(query)).all():
            if contact_id is None or contact_id not in statuses:
                continue
            if status == outbox.DeliveryStatus.CONFIRMED and confirmed_at is not None:
                if until is not None and confirmed_at > until:
                    status = outbox.DeliveryStatus.SENT  # answered too late: reached, silent
                else:
                    first[contact_id] = min(confirmed_at, first.get(contact_id, confirmed_at))
            statuses[contact_id].add(status)
    unreachable, silent, answered = [], [], []
    for i in officials:
        row = (i, names.get(i, "—"))
        seen = statuses[i]
        if outbox.DeliveryStatus.CONFIRMED in seen:
            answered.append(row)
        elif not seen or seen <= {outbox.DeliveryStatus.FAILED, outbox.DeliveryStatus.CANCELLED}:
            unreachable.append(row)
        else:
            silent.append(row)
    return Result(unreachable, silent, answered, {i: first[i] for i, _ in answered if i in first})


async def _names(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(Contact).where(col(Contact.id).in_(sorted(ids)))
    return {c.id: c.display_name for c in (await session.exec(query)).all() if c.id}
