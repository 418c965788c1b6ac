"""An operator takes a written request and answers it by e-mail, through the dispatcher.

The answer is an outbox message (purpose `cip_answer`) to the requester's address, sent by the
dispatcher like every other message, with its retries and its exercise isolation: in an
exercise crisis the delivery's audience is `exercise`, so only the exercise channels carry it.
Taking and answering need the operator in post at a CIP not closed; a request is answered
once (409 `request_already_answered`); an empty answer is refused (422 `answer_missing`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from channels.kinds import ChannelKind
from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import crises
from crisis.cell.crises import RefusedInput
from crisis.cell.paging import EXERCISE_PREFIX
from crisis.cip import record, requests, staffing
from crisis.cip.requests import CipRequest
from crisis.dispatch import outbox
from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering
from crisis.errors import Conflict
from crisis.text import visible_length
from crisis.vocabulary import Audience

ANSWER_MAX = 8000
PARIS = ZoneInfo("Europe/Paris")


async def _in_post(session: AsyncSession, *, actor: Actor, crisis_id: int) -> None:
    cip = await record.required(session, crisis_id=crisis_id)
    record.require_not_closed(cip)
    if actor.is_system or Role.PREFECT in actor.roles:
        return
    if not await staffing.present_shift(session, crisis_id=crisis_id, actor=actor):
        raise Conflict(
            "not_checked_in", "Prenez votre poste à la CIP avant de traiter une demande écrite."
        )


def _not_answered(request: CipRequest) -> None:
    if request.answered_at is not None:
        raise Conflict(
            "request_already_answered",
            f"La demande n° {request.id} a déjà reçu une réponse de {request.answered_by}.",
            {"answered_at": request.answered_at.isoformat()},
        )


async def take(
    session: AsyncSession, *, actor: Actor, crisis_id: int, request_id: int, now: datetime
) -> CipRequest:
    """The operator takes the request (« Je m'en charge »), from whoever had it."""
    actor.require(Role.OPERATOR, Role.PREFECT, action="prendre une demande écrite")
    request = await requests.get(session, crisis_id=crisis_id, request_id=request_id, lock=True)
    await _in_post(session, actor=actor, crisis_id=crisis_id)
    _not_answered(request)
    before = request.assigned_to
    request.assigned_to = actor.login
    request.assigned_at = now
    session.add(request)
    await journal.append(
        session,
        actor=actor,
        action="cip.request_assigned",
        now=now,
        crisis_id=crisis_id,
        payload={"request": request.id, "operator": actor.login, "before": before},
    )
    return request


def _answer_text(value: str | None) -> str:
    text = (value or "").strip()
    if visible_length(text) < 3:
        raise RefusedInput("answer_missing", "Écrivez la réponse (au moins 3 caractères).")
    if len(text) > ANSWER_MAX:
        raise RefusedInput("answer_too_long", f"Réponse : {ANSWER_MAX} caractères au plus.")
    return text


def rendering(request: CipRequest, *, answer: str, exercise: bool) -> Rendering:
    """The e-mail: the answer, the CIP's signature, the request quoted; the subject keeps the
    `[CIP-n]` token so that a reply comes back to the same crisis."""
    received = request.received_at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    quoted = "\n".join(f"> {line}" for line in request.body[:2000].splitlines())
    subject = request.subject or "votre demande"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    token = f"[CIP-{request.crisis_id}]"
    if token not in subject:
        subject = f"{subject} {token}"
    text = (
        f"{answer}\n\n-- \nCellule d'information du public de la préfecture\n\n"
        f"Votre message du {received} :\n{quoted}"
    )
    if exercise:
        subject, text = f"{EXERCISE_PREFIX} — {subject}", f"{EXERCISE_PREFIX}\n\n{text}"
    return Rendering(channel=ChannelKind.EMAIL.value, subject=subject[:300], text=text)


async def answer(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    request_id: int,
    text: str | None,
    now: datetime,
) -> CipRequest:
    """Answer the request by e-mail (one outbox message); journaled, late or not."""
    actor.require(Role.OPERATOR, Role.PREFECT, action="répondre à une demande écrite")
    crisis = await crises.get(session, crisis_id=crisis_id)
    request = await requests.get(session, crisis_id=crisis_id, request_id=request_id, lock=True)
    _not_answered(request)
    await _in_post(session, actor=actor, crisis_id=crisis_id)
    if request.assigned_to not in (None, actor.login) and Role.PREFECT not in actor.roles:
        raise Conflict(
            "request_assigned_elsewhere",
            f"{request.assigned_to} s'occupe de cette demande : prenez-la d'abord.",
        )
    written = _answer_text(text)
    exercise = crisis.is_exercise
    enqueued = await outbox.enqueue(
        session,
        purpose=Purpose.CIP_ANSWER,
        renderings=[rendering(request, answer=written, exercise=exercise)],
        requests=[
            DeliveryRequest(
                channel=ChannelKind.EMAIL.value,
                address=request.sender,
                audience=Audience.EXERCISE.value if exercise else Audience.PUBLIC.value,
                played_audience=Audience.PUBLIC.value if exercise else None,
                recipient_name=request.sender_name,
            )
        ],
        now=now,
        exercise=exercise,
        crisis_id=crisis_id,
    )
    request.answer = written
    request.answered_at = now
    request.answered_by = actor.login
    request.assigned_to = request.assigned_to or actor.login
    request.assigned_at = request.assigned_at or now
    request.outbox_message_id = enqueued.messages[ChannelKind.EMAIL.value]
    session.add(request)
    await journal.append(
        session,
        actor=actor,
        action="cip.request_answered",
        now=now,
        crisis_id=crisis_id,
        payload={"request": request.id, "late": request.overdue(now)},
    )
    return request
