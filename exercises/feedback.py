"""The participants' feedback after a drill (RETEX): three questions behind a personal link.

When a run ends (naturally or by STOP EXERCICE), each participant's end message carries their
own link: a token signed with the service's key (salt `SALT`) naming one feedback row, one row
per participant and run. The form needs no login; it is answered once: a second use changes
nothing and is refused (409). The answers feed the run's report, without the participants'
names (an honest answer needs no name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor
from crisis.cell import paging
from crisis.dispatch import outbox
from crisis.dispatch.outbox import Outgoing, Purpose, Rendering
from crisis.errors import NotFound
from exercises.errors import DrillConflict, DrillRefused
from exercises.messages import participant_requests
from exercises.programme import Drill, DrillRun
from storage.types import UTCDateTime

__all__ = ["QUESTIONS", "Feedback", "answer", "invite", "opened", "summary"]

SALT = "tocsin-exercise-feedback"
MAX_TEXT = 2000
RATINGS = range(1, 6)
QUESTIONS = {
    "rating": "Quelle note donnez-vous à cet exercice, de 1 (inutile) à 5 (très utile) ?",
    "went_well": "Qu'est-ce qui a bien fonctionné ?",
    "to_improve": "Que faudrait-il améliorer avant une vraie crise ?",
}
INVALID = "Ce lien de retour d'exercice n'est pas valide."


class Feedback(SQLModel, table=True):
    __tablename__ = "exercise_feedback"
    __table_args__ = (sa.UniqueConstraint("run_id", "contact_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="exercise_run.id", index=True)
    contact_id: int
    created_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rating: int | None = None
    went_well: str | None = Field(default=None, sa_type=sa.Text)
    to_improve: str | None = Field(default=None, sa_type=sa.Text)


@dataclass(frozen=True, slots=True)
class Opened:
    """What the form shows: the drill's title, and whether it was answered already."""

    feedback_id: int
    title: str
    answered: bool


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def token_for(feedback_id: int, *, secret: str) -> str:
    return str(_serializer(secret).dumps(feedback_id))


def feedback_of(token: str, *, secret: str) -> int:
    """The feedback row a token names; 404 for a forged or mangled token."""
    try:
        value = _serializer(secret).loads(token)
    except BadSignature:
        raise NotFound("invalid_feedback_token", INVALID) from None
    if not isinstance(value, int):
        raise NotFound("invalid_feedback_token", INVALID)
    return value


async def invite(
    session: AsyncSession,
    *,
    run_id: int,
    crisis_id: int,
    participants: Sequence[int],
    headline: str,
    title: str,
    secret: str,
    base_url: str,
    now: datetime,
) -> int:
    """The end message to each active participant, with their own feedback link; how many."""
    requests = await participant_requests(session, participants)
    if not requests:
        return 0
    rows = [Feedback(run_id=run_id, contact_id=cid, created_at=now) for cid, _ in requests]
    session.add_all(rows)
    await session.flush()
    subject = f"{paging.EXERCISE_PREFIX} — {headline}"
    batch = []
    for (_, request), row in zip(requests, rows, strict=True):
        assert row.id is not None
        link = f"{base_url.rstrip('/')}/retour-exercice/{token_for(row.id, secret=secret)}"
        text = (
            f"{paging.EXERCISE_PREFIX} — {headline}. Exercice « {title} ». "
            f"Votre avis en trois questions : {link}"
        )
        rendering = Rendering(channel=request.channel, text=text, subject=subject, link=link)
        batch.append(Outgoing([rendering], [request], exercise=True, crisis_id=crisis_id))
    await outbox.enqueue_many(session, purpose=Purpose.PAGE, batch=batch, now=now)
    return len(rows)


async def _row(session: AsyncSession, feedback_id: int, *, for_update: bool = False) -> Feedback:
    query = select(Feedback).where(Feedback.id == feedback_id)
    if for_update:
        query = query.with_for_update()
    found = (await session.exec(query)).first()
    if found is None:
        raise NotFound("invalid_feedback_token", INVALID)
    return found


async def _title(session: AsyncSession, run_id: int) -> str:
    query = select(Drill.title).join(DrillRun, col(DrillRun.drill_id) == Drill.id)
    return (await session.exec(query.where(DrillRun.id == run_id))).one()


async def opened(session: AsyncSession, *, token: str, secret: str) -> Opened:
    """The form behind `token` (404 when forged)."""
    row = await _row(session, feedback_of(token, secret=secret))
    assert row.id is not None
    return Opened(row.id, await _title(session, row.run_id), row.answered_at is not None)


def _checked(rating: int | None, went_well: str, to_improve: str) -> tuple[int, str, str]:
    if rating is None or rating not in RATINGS:
        raise DrillRefused("feedback_rating", "Choisissez une note de 1 à 5.")
    texts = (went_well.strip(), to_improve.strip())
    if any(len(t) > MAX_TEXT for t in texts):
        raise DrillRefused("feedback_too_long", f"Chaque réponse tient en {MAX_TEXT} caractères.")
    return rating, *texts


async def answer(
    session: AsyncSession,
    *,
    token: str,
    secret: str,
    rating: int | None,
    went_well: str,
    to_improve: str,
    now: datetime,
) -> Feedback:
    """The participant's answers, once: 422 for a bad answer, 409 the second time."""
    row = await _row(session, feedback_of(token, secret=secret), for_update=True)
    if row.answered_at is not None:
        raise DrillConflict(
            "feedback_used", "Vous avez déjà répondu à ce questionnaire : merci, c'est noté."
        )
    row.rating, row.went_well, row.to_improve = _checked(rating, went_well, to_improve)
    row.answered_at = now
    session.add(row)
    crisis_id = await _crisis_of(session, row.run_id)
    await journal.append(
        session,
        actor=Actor(None, "participant", frozenset()),
        action="exercise.feedback",
        now=now,
        crisis_id=crisis_id,
        payload={"run_id": row.run_id, "rating": row.rating},
    )
    return row


async def _crisis_of(session: AsyncSession, run_id: int) -> int | None:
    found = await session.get(DrillRun, run_id)
    return found.crisis_id if found else None


async def summary(session: AsyncSession, *, run_id: int) -> dict[str, Any]:
    """The run's feedback for its report: how many asked and answered, the mean rating, the
    answers (anonymous, oldest first)."""
    query = select(Feedback).where(Feedback.run_id == run_id).order_by(col(Feedback.id))
    rows = list((await session.exec(query)).all())
    done = [r for r in rows if r.answered_at is not None]
    ratings = [r.rating for r in done if r.rating is not None]
    mean = sum(ratings) / len(ratings) if ratings else None
    return {
        "asked": len(rows),
        "answered": len(done),
        "mean_rating": round(mean, 1) if mean is not None else None,
        "answers": [
            {
                "answered_at": r.answered_at.isoformat() if r.answered_at else None,
                "rating": r.rating,
                "went_well": r.went_well or "",
                "to_improve": r.to_improve or "",
            }
            for r in done
        ],
    }
