"""Written requests to the CIP (ES17/ES18 where they touch a crisis): an e-mail received at the
CIP's address becomes a row with its response deadline; an operator takes it and answers it
(`crisis.cip.answering`); one still unanswered past its deadline is overdue.

The requester's address is personal data (`crisis.cip.privacy.sees_requester_address`); the
journal records the request's number and deadline, never the address or the text."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import SYSTEM
from crisis.errors import NotFound
from storage.types import UTCDateTime

SUBJECT_MAX = 300
BODY_MAX = 20_000


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRules:
    deadline: timedelta = timedelta(hours=24)
    """How long the CIP has to answer a written request (`TOCSIN_CIP_REQUEST_DEADLINE_HOURS`)."""


class CipRequest(SQLModel, table=True):
    __tablename__ = "cip_request"

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    received_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    sender: str = Field(max_length=320)
    sender_name: str = Field(default="", max_length=200)
    subject: str = Field(default="", max_length=SUBJECT_MAX)
    body: str = Field(sa_type=sa.Text)
    message_ref: str = Field(default="", max_length=300)
    assigned_to: str | None = Field(default=None, max_length=64)
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by: str | None = Field(default=None, max_length=64)
    answer: str | None = Field(default=None, sa_type=sa.Text)
    outbox_message_id: int | None = None

    def overdue(self, now: datetime) -> bool:
        """Unanswered past its deadline, or answered after it."""
        return (self.answered_at or now) > self.due_at


@dataclass(frozen=True, slots=True, kw_only=True)
class Incoming:
    """A written request as the inbox read it."""

    sender: str
    sender_name: str = ""
    subject: str = ""
    body: str = ""
    message_ref: str = ""


async def receive(
    session: AsyncSession,
    *,
    crisis_id: int,
    incoming: Incoming,
    rules: RequestRules,
    now: datetime,
) -> CipRequest:
    """Log a request received now, due `rules.deadline` later; journaled without the address."""
    request = CipRequest(
        crisis_id=crisis_id,
        received_at=now,
        due_at=now + rules.deadline,
        sender=incoming.sender[:320],
        sender_name=incoming.sender_name[:200],
        subject=incoming.subject[:SUBJECT_MAX],
        body=incoming.body[:BODY_MAX],
        message_ref=incoming.message_ref[:300],
    )
    session.add(request)
    await session.flush()
    await journal.append(
        session,
        actor=SYSTEM,
        action="cip.request_received",
        now=now,
        crisis_id=crisis_id,
        payload={"request": request.id, "due_at": request.due_at.isoformat()},
    )
    return request


async def get(
    session: AsyncSession, *, crisis_id: int, request_id: int, lock: bool = False
) -> CipRequest:
    query = select(CipRequest).where(CipRequest.id == request_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = (await session.exec(query)).first()
    if found is None or found.crisis_id != crisis_id:
        raise NotFound("request_not_found", f"Aucune demande écrite n° {request_id} à cette CIP.")
    return found


async def for_crisis(session: AsyncSession, *, crisis_id: int) -> list[CipRequest]:
    """Open requests first (the nearest deadline first), then the answered ones, latest first."""
    query = select(CipRequest).where(CipRequest.crisis_id == crisis_id)
    found = list((await session.exec(query.order_by(col(CipRequest.due_at)))).all())
    waiting = [r for r in found if r.answered_at is None]
    answered = sorted(
        (r for r in found if r.answered_at is not None),
        key=lambda r: r.answered_at or r.due_at,
        reverse=True,
    )
    return waiting + answered


@dataclass(frozen=True, slots=True)
class Tally:
    received: int
    answered: int
    open: int
    overdue: int
    """Still open past their deadline, or answered after it."""
    open_overdue: int
    median_response_minutes: int | None


def tally(found: Sequence[CipRequest], *, now: datetime) -> Tally:
    responses = [
        (r.answered_at - r.received_at).total_seconds() / 60
        for r in found
        if r.answered_at is not None
    ]
    median = statistics.median(responses) if responses else None
    return Tally(
        received=len(found),
        answered=len(responses),
        open=sum(1 for r in found if r.answered_at is None),
        overdue=sum(1 for r in found if r.overdue(now)),
        open_overdue=sum(1 for r in found if r.answered_at is None and r.overdue(now)),
        median_response_minutes=None if median is None else round(median),
    )
