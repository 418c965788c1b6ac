"""A call to the CIP, logged by the operator who answered it.

Accepted from the order until the close; times in order (received ≤ answered ≤ ended, none
after now); the answer is a validated FAQ entry of the crisis or typed text; a follow-up
carries the caller's callback number (personal data: see `crisis.cip.privacy`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import geography
from crisis import journal
from crisis.actors import Actor, Role
from crisis.cell import crises
from crisis.cell.crises import RefusedInput
from crisis.cip import faq, numbers, record
from crisis.cip.rules import CipRules
from crisis.cip.vocabulary import TOPIC_LABELS, FaqStatus
from crisis.errors import Conflict, NotFound
from crisis.text import visible_length
from crisis.vocabulary import CrisisStatus
from storage.types import UTCDateTime

TEXT_MAX = 4000


class CipCall(SQLModel, table=True):
    __tablename__ = "cip_call"

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    received_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    commune: str | None = Field(default=None, max_length=5)
    topic: str = Field(max_length=20)
    question: str = Field(sa_type=sa.Text)
    answer: str | None = Field(default=None, sa_type=sa.Text)
    faq_id: int | None = Field(default=None, foreign_key="cip_faq_entry.id")
    follow_up: bool = False
    callback_number: str | None = Field(default=None, max_length=20)
    follow_up_done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    operator: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallIn:
    received_at: datetime | None
    topic: str
    question: str
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    commune: str | None = None
    answer: str | None = None
    faq_id: int | None = None
    follow_up: bool = False
    callback_number: str | None = None


def _aware(value: datetime | None, *, code: str, what: str) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise RefusedInput(code, f"{what} : indiquez l'heure avec son fuseau horaire.")
    return value


def _times(call: CallIn, *, rules: CipRules, now: datetime) -> None:
    received = _aware(call.received_at, code="received_at_invalid", what="Appel reçu")
    answered = _aware(call.answered_at, code="answered_at_invalid", what="Appel décroché")
    ended = _aware(call.ended_at, code="ended_at_invalid", what="Fin d'appel")
    if received is None:
        raise RefusedInput("received_at_missing", "Indiquez l'heure de réception de l'appel.")
    latest = now + rules.clock_skew
    if any(t is not None and t > latest for t in (received, answered, ended)):
        raise RefusedInput("call_in_future", "Une heure de l'appel est dans le futur.")
    if answered is not None and answered < received:
        raise RefusedInput(
            "answered_before_received", "L'appel ne peut pas être décroché avant d'être reçu."
        )
    if ended is not None and ended < (answered or received):
        raise RefusedInput("ended_before_answered", "La fin d'appel précède son début.")


def _text(value: str | None, *, code: str, what: str, required: bool) -> str | None:
    text = " ".join((value or "").split()) if value else ""
    if required and visible_length(text) < 3:
        raise RefusedInput(f"{code}_missing", f"{what} : au moins 3 caractères.")
    if len(text) > TEXT_MAX:
        raise RefusedInput(f"{code}_too_long", f"{what} : {TEXT_MAX} caractères au plus.")
    return text or None


async def _checked(
    session: AsyncSession,
    *,
    crisis_id: int,
    call: CallIn,
    rules: CipRules,
    now: datetime,
    commune_known: bool,
) -> tuple[str | None, str | None, str | None]:
    """(question, answer, callback number) once everything else is valid."""
    _times(call, rules=rules, now=now)
    if call.topic not in TOPIC_LABELS:
        raise RefusedInput("unknown_topic", f"Thème inconnu : « {call.topic[:40]} ».")
    question = _text(call.question, code="question", what="Question", required=True)
    answer = _text(call.answer, code="answer", what="Réponse donnée", required=False)
    if call.commune and not commune_known:
        raise RefusedInput("unknown_commune", f"Commune inconnue : « {call.commune[:20]} ».")
    if call.faq_id is not None:
        entry = await faq.entry(session, crisis_id=crisis_id, entry_id=call.faq_id)
        if entry.status != FaqStatus.APPROVED:
            raise Conflict("faq_not_approved", "Cette réponse de la FAQ n'est pas encore validée.")
    callback = None
    if call.follow_up:
        callback = numbers.french_number(
            call.callback_number, code="callback_number", what="le numéro de rappel"
        )
    return question, answer, callback


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a call's checks read, in one statement."""

    crisis_status: str
    ordered_at: datetime
    closed_at: datetime | None
    in_post: bool
    commune_known: bool


CALLS = CipCall.__table__  # type: ignore[attr-defined]
_CRISES = crises.Crisis.__table__  # type: ignore[attr-defined]
_CIPS = record.Cip.__table__  # type: ignore[attr-defined]
_SHIFTS = record.CipShift.__table__  # type: ignore[attr-defined]
_COMMUNES = geography.Commune.__table__  # type: ignore[attr-defined]
_FACTS = (
    sa.select(
        _CRISES.c.status,
        _CIPS.c.ordered_at,
        _CIPS.c.closed_at,
        sa.exists().where(
            _SHIFTS.c.crisis_id == _CRISES.c.id,
            _SHIFTS.c.user_id == sa.bindparam("user_id"),
            _SHIFTS.c.checked_out_at.is_(None),
        ),
        sa.exists().where(_COMMUNES.c.code == sa.bindparam("commune")),
    )
    .select_from(_CRISES.join(_CIPS, _CIPS.c.crisis_id == _CRISES.c.id))
    .where(_CRISES.c.id == sa.bindparam("crisis_id"))
    .with_for_update(of=_CIPS, read=True)  # no close of the CIP until this call is saved
)


async def _facts(
    session: AsyncSession, *, crisis_id: int, actor: Actor, commune: str | None
) -> _Facts:
    """The crisis' status, its CIP's, whether `actor` is in post, whether `commune` is known;
    refused as `crises.get` and `record.required` refuse when the crisis or its CIP is missing."""
    conn = await session.connection()
    values = {"crisis_id": crisis_id, "user_id": actor.user_id, "commune": commune}
    row = (await conn.execute(_FACTS, values)).first()
    if row is None:
        await crises.get(session, crisis_id=crisis_id)
        await record.required(session, crisis_id=crisis_id)
        row = (await conn.execute(_FACTS, values)).one()  # ordered in the meantime
    return _Facts(*row)


async def log_call(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    call: CallIn,
    rules: CipRules,
    now: datetime,
) -> CipCall:
    """Checks in the order of the refusals (crisis, CIP, post, then the call itself) from one
    read, then the call and its journal entry written as plain rows."""
    actor.require(Role.OPERATOR, action="enregistrer un appel à la CIP")
    facts = await _facts(session, crisis_id=crisis_id, actor=actor, commune=call.commune or None)
    _refuse_unless_open(facts, actor=actor)
    question, answer, callback = await _checked(
        session, crisis_id=crisis_id, call=call, rules=rules, now=now,
        commune_known=facts.commune_known,
    )  # fmt: skip
    assert call.received_at is not None and question is not None
    if call.received_at < facts.ordered_at - rules.clock_skew:
        raise Conflict("call_before_order", "Appel reçu avant que la CIP soit ordonnée.")
    logged = CipCall(
        crisis_id=crisis_id,
        received_at=call.received_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        commune=call.commune or None,
        topic=call.topic,
        question=question,
        answer=answer,
        faq_id=call.faq_id,
        follow_up=call.follow_up,
        callback_number=callback,
        operator=actor.login,
        recorded_at=now,
    )
    await _insert(session, logged)
    await journal.append(
        session,
        actor=actor,
        action="cip.call_logged",
        now=now,
        crisis_id=crisis_id,
        payload=_journaled(logged),
    )
    return logged


def _refuse_unless_open(facts: _Facts, *, actor: Actor) -> None:
    """The refusals that the facts alone decide, in their order: CIP closed, event closed,
    caller not at a post of the CIP."""
    if facts.closed_at is not None:
        raise Conflict(
            "cip_closed", "La CIP est fermée.", {"closed_at": facts.closed_at.isoformat()}
        )
    if facts.crisis_status == CrisisStatus.CLOSED:
        raise Conflict("crisis_closed", "L'événement est clos.")
    if not actor.is_system and not facts.in_post:
        raise Conflict(
            "not_checked_in", "Prenez votre poste à la CIP avant d'enregistrer un appel."
        )


def _journaled(logged: CipCall) -> dict[str, object]:
    """What the journal keeps of a call."""
    return {
        "call": logged.id,
        "topic": logged.topic,
        "commune": logged.commune,
        "faq": logged.faq_id,
        "follow_up": logged.follow_up,
    }


async def _insert(session: AsyncSession, logged: CipCall) -> None:
    """One INSERT of plain values (no unit of work); `logged` gets its id."""
    await session.flush()
    conn = await session.connection()
    values = {column.name: getattr(logged, column.name) for column in CALLS.columns}
    del values["id"]
    inserted = (await conn.execute(sa.insert(CALLS), values)).inserted_primary_key
    assert inserted is not None
    logged.id = inserted[0]


async def for_crisis(session: AsyncSession, *, crisis_id: int) -> list[CipCall]:
    query = select(CipCall).where(CipCall.crisis_id == crisis_id)
    return list((await session.exec(query.order_by(col(CipCall.received_at)))).all())


async def follow_up_done(
    session: AsyncSession, *, actor: Actor, crisis_id: int, call_id: int, now: datetime
) -> CipCall:
    """An operator called the caller back: the follow-up is no longer open."""
    actor.require(Role.OPERATOR, action="noter un rappel fait")
    call = await session.get(CipCall, call_id)
    if call is None or call.crisis_id != crisis_id:
        raise NotFound("call_not_found", f"Aucun appel n° {call_id} à cette CIP.")
    if not call.follow_up or call.follow_up_done_at is not None:
        raise Conflict("no_follow_up_open", "Cet appel n'a pas de rappel en attente.")
    call.follow_up_done_at = now
    session.add(call)
    await journal.append(
        session,
        actor=actor,
        action="cip.follow_up_done",
        now=now,
        crisis_id=crisis_id,
        payload={"call": call.id},
    )
    return call
