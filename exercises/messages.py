"""The messages a drill sends itself: start, end and STOP EXERCICE, to its participants.

Every one is an exercise message of the run's exercise-mode crisis, audience ``exercise``:
the dispatcher's isolation (`crisis.dispatch.isolation`) carries it over the exercise channel
set only, whatever else happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import AddressKind, Contact, ContactAudience
from crisis.cell import paging
from crisis.dispatch import outbox
from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering
from crisis.users import User
from exercises.schedule import PARIS

__all__ = [
    "START_TEXT",
    "active_participants",
    "ask_planner",
    "participant_requests",
    "send_to_participants",
    "tell_planner",
]

START_TEXT = "Début d'exercice — aucune action réelle"
END_TEXT = "Fin d'exercice — merci de votre participation"


async def active_participants(session: AsyncSession, ids: Sequence[int]) -> list[tuple[int, str]]:
    """(contact id, name) of the participants still active exercise contacts."""
    if not ids:
        return []
    query = select(Contact).where(
        col(Contact.id).in_(sorted(set(ids))),
        Contact.audience == ContactAudience.EXERCISE,
        col(Contact.active),
    )
    return [(c.id, c.display_name) for c in (await session.exec(query)).all() if c.id is not None]


async def participant_requests(
    session: AsyncSession, ids: Sequence[int]
) -> list[tuple[int, DeliveryRequest]]:
    """(contact id, exercise delivery on their first channel) of each active participant."""
    people = await active_participants(session, ids)
    if not people:
        return []
    channels = await paging.first_channels(session, contact_ids=[cid for cid, _ in people])
    return [
        (
            cid,
            paging.request_for(channel=channels.get(cid), name=name, contact_id=cid, exercise=True),
        )
        for cid, name in people
    ]


async def send_to_participants(
    session: AsyncSession,
    *,
    crisis_id: int,
    participants: Sequence[int],
    headline: str,
    title: str,
    link: str,
    now: datetime,
) -> int:
    """One exercise message to each participant; the number of deliveries written."""
    requests = [r for _, r in await participant_requests(session, participants)]
    if not requests:
        return 0
    subject = f"{paging.EXERCISE_PREFIX} — {headline}"
    text = f"{paging.EXERCISE_PREFIX} — {headline}. Exercice « {title} ». {link}"
    return await enqueue_to_participants(
        session, requests, text=text, subject=subject, link=link, now=now, crisis_id=crisis_id
    )


async def enqueue_to_participants(
    session: AsyncSession,
    requests: list[DeliveryRequest],
    *,
    text: str,
    subject: str,
    link: str | None,
    now: datetime,
    crisis_id: int | None,
) -> int:
    """One exercise message, rendered per channel, to these participants' deliveries."""
    await outbox.enqueue(
        session,
        purpose=Purpose.PAGE,
        renderings=[
            Rendering(channel=ch, text=text, subject=subject, link=link)
            for ch in sorted({r.channel for r in requests})
        ],
        requests=requests,
        now=now,
        exercise=True,
        crisis_id=crisis_id,
    )
    return len(requests)


def _when(occurrence: datetime) -> str:
    local = occurrence.astimezone(PARIS)
    return f"{local:%d/%m/%Y} à {local.hour} h {local.minute:02d}"


async def _to_planner(
    session: AsyncSession, *, login: str, subject: str, text: str, link: str, now: datetime
) -> list[str]:
    """A notice to the trainer who planned a drill, by e-mail to their account's address
    (outside any crisis: no exercise content). Who was told."""
    user = (await session.exec(select(User).where(User.login == login))).first()
    if user is None or not user.active or not user.email:
        return []
    request = paging.request_for(
        channel=(AddressKind.EMAIL.value, user.email),
        name=user.display_name or user.login,
        contact_id=None,
        exercise=False,
    )
    await outbox.enqueue(
        session,
        purpose=Purpose.PAGE,
        renderings=[Rendering(channel=request.channel, text=text, subject=subject, link=link)],
        requests=[request],
        now=now,
        exercise=False,
    )
    return [user.login]


async def tell_planner(
    session: AsyncSession,
    *,
    login: str,
    title: str,
    reason: str,
    occurrence: datetime,
    link: str,
    now: datetime,
) -> list[str]:
    """The trainer who planned a drill hears that a run was missed. Who was told."""
    text = (
        f"L'exercice « {title} » prévu le {_when(occurrence)} n'a pas été lancé : {reason}. {link}"
    )
    subject = "Tocsin : un exercice programmé n'a pas été lancé"
    return await _to_planner(session, login=login, subject=subject, text=text, link=link, now=now)


async def ask_planner(
    session: AsyncSession, *, login: str, title: str, occurrence: datetime, link: str, now: datetime
) -> list[str]:
    """The trainer who planned a drill « ask me first » is asked to confirm it. Who was told."""
    text = (
        f"L'exercice « {title} » prévu le {_when(occurrence)} attend votre confirmation "
        f"avant de partir : confirmez son lancement sur sa page. {link}"
    )
    subject = "Tocsin : un exercice attend votre confirmation"
    return await _to_planner(session, login=login, subject=subject, text=text, link=link, now=now)
