"""Validators are told: a submitted bulletin pages the validators on duty, and its author
hears of the approval or the rejection.

Every notice is an outbox message (purpose `review`) that the dispatcher sends over the
person's staff channel, like a page (`crisis.cell.paging`): in an exercise, only exercise
contacts are aimed at, with the exercise audience, and the dispatcher's isolation keeps the
message on the exercise channels. Each notice is journaled with its recipients.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from channels.kinds import ChannelKind
from contacts.roster import DutyRole
from crisis import journal
from crisis.actors import SYSTEM, Actor
from crisis.bulletin.record import Bulletin
from crisis.cell import crises, paging
from crisis.cell.paging import EXERCISE_PREFIX, PageTarget
from crisis.dispatch import outbox
from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering
from crisis.users import User
from crisis.vocabulary import PHONE


def _prefixed(text: str, *, exercise: bool) -> str:
    return f"{EXERCISE_PREFIX} — {text}" if exercise else text


async def _send(
    session: AsyncSession,
    *,
    bulletin: Bulletin,
    requests: Sequence[DeliveryRequest],
    subject: str,
    text: str,
    link: str | None,
    exercise: bool,
    now: datetime,
) -> None:
    await outbox.enqueue(
        session,
        purpose=Purpose.REVIEW,
        renderings=[
            Rendering(channel=ch, text=text, subject=subject, link=link)
            for ch in sorted({r.channel for r in requests})
        ],
        requests=requests,
        now=now,
        exercise=exercise,
        crisis_id=bulletin.crisis_id,  # not the bulletin's: its deliveries are its fan-out
    )


def _not_the_writers(targets: Sequence[PageTarget], bulletin: Bulletin) -> list[PageTarget]:
    """Those who may review it: a validator who wrote any of the text never approves it."""
    writers = {bulletin.author_id, *(e.get("user_id") for e in bulletin.editors)} - {None}
    return [t for t in targets if t.user_id is None or t.user_id not in writers]


async def reviewers(
    session: AsyncSession, *, bulletin: Bulletin, now: datetime, edited_by: str | None = None
) -> list[str]:
    """Tell the validators on duty that `bulletin` awaits them; their names (journaled).

    `edited_by`: the text changed after its submission (or approval) and awaits them again."""
    crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
    exercise = crisis.is_exercise
    found = await paging.targets(
        session, at=now, exercise=exercise, roles=[DutyRole.VALIDATOR.value]
    )
    targets = _not_the_writers(found, bulletin)
    channels = await paging.first_channels(
        session, contact_ids=[t.contact_id for t in targets if t.contact_id is not None]
    )
    requests = [
        paging.request_for(
            channel=channels[t.contact_id], name=t.name, contact_id=t.contact_id, exercise=exercise
        )
        for t in targets
        if t.contact_id in channels and channels[t.contact_id][0] != PHONE
    ]
    names = [r.recipient_name for r in requests]
    if requests:
        about = f"Le communiqué « {bulletin.title} » (événement « {crisis.title} »)"
        if edited_by:
            said = f"{about} a été modifié par {edited_by} après sa soumission : il attend de "
            said += f"nouveau votre validation. Auteur : {bulletin.author}."
            subject = "Tocsin : un communiqué modifié attend de nouveau votre validation"
        else:
            said = f"{about} attend votre validation. Auteur : {bulletin.author}."
            subject = "Tocsin : un communiqué attend votre validation"
        text = _prefixed(said, exercise=exercise)
        subject = _prefixed(subject, exercise=exercise)
        await _send(
            session,
            bulletin=bulletin,
            requests=requests,
            subject=subject,
            text=text,
            link=None,
            exercise=exercise,
            now=now,
        )
    await journal.append(
        session,
        actor=SYSTEM,
        action="bulletin.reviewers_notified",
        now=now,
        crisis_id=bulletin.crisis_id,
        payload={"bulletin_id": bulletin.id, "title": bulletin.title, "recipients": names},
    )
    return names


async def author(
    session: AsyncSession, *, bulletin: Bulletin, reviewer: Actor, now: datetime
) -> bool:
    """Tell the author that `reviewer` approved or rejected the bulletin (by e-mail, their
    account's address, never in an exercise); whether a message went out. Journaled."""
    crisis = await crises.get(session, crisis_id=bulletin.crisis_id)
    exercise = crisis.is_exercise
    user = await session.get(User, bulletin.author_id) if bulletin.author_id else None
    approved = bulletin.approved_at is not None
    if approved:
        what = f"est validé par {reviewer.login} : il peut être publié."
    else:
        what = f"est refusé par {reviewer.login}. Motif : {bulletin.reject_reason}"
    # In an exercise the author's own address is no exercise channel: the page tells them.
    sent = not exercise and user is not None and user.active and bool(user.email)
    if sent:
        assert user is not None and user.email is not None
        request = paging.request_for(
            channel=(ChannelKind.EMAIL.value, user.email),
            name=user.display_name or user.login,
            contact_id=None,
            exercise=exercise,
        )
        await _send(
            session,
            bulletin=bulletin,
            requests=[request],
            subject=_prefixed(
                "Tocsin : votre communiqué est " + ("validé" if approved else "refusé"),
                exercise=exercise,
            ),
            text=_prefixed(f"Votre communiqué « {bulletin.title} » {what}", exercise=exercise),
            link=None,
            exercise=exercise,
            now=now,
        )
    await journal.append(
        session,
        actor=SYSTEM,
        action="bulletin.author_notified",
        now=now,
        crisis_id=bulletin.crisis_id,
        payload={
            "bulletin_id": bulletin.id,
            "title": bulletin.title,
            "recipients": [bulletin.author] if sent else [],
        },
    )
    return sent
