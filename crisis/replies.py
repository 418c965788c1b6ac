"""Answers by reply keyword: « OK » on Telegram or by SMS acknowledges a page or confirms a
bulletin's receipt, exactly as the personal link would (method / via `reply`).

What a reply answers, among the deliveries of the last `window` to its sender's address on
that channel, of a crisis whose mode the inbound lane may answer (the real provider's
webhook answers `real` crises, the exercise one `exercise` crises):

1. a Telegram reply to one of our messages: that delivery, and nothing else;
2. else a code in the text (« OK 4821 »): the delivery with that code;
3. else the most recent delivery still awaiting an answer.

Awaiting: a page not yet acknowledged (crisis still open), a bulletin delivery `sent`
(or being sent) of a bulletin that asks a confirmation, or a check (purpose `check`, outside
any crisis: its lane is its message's mode) `sent` in the last `CHECK_WINDOW`. Several
matches (a shared code, two deliveries of the same instant, deliveries of both modes) make
the reply ambiguous. A reply
that matches nothing, an ambiguous one, or one from an unknown sender changes nothing and
is journaled as `reply.unrecognised`, for the operators to call the person back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import ContactChannel
from crisis import journal, paged_answers
from crisis.actors import Actor
from crisis.bulletin import confirmations
from crisis.bulletin.render import REPLY_CHANNELS
from crisis.bulletin.workflow import Bulletin
from crisis.cell import paging
from crisis.cell.crises import Crisis
from crisis.dispatch.outbox import Delivery, DeliveryStatus, OutboxMessage, Purpose
from crisis.errors import Conflict
from crisis.vocabulary import CrisisMode, CrisisStatus

KEYWORDS = frozenset({"ok", "oui"})
COURTESY = frozenset({"merci"})
MAX_TEXT = 300
_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_BULLETIN_AWAITING = (DeliveryStatus.SENT, DeliveryStatus.SENDING)
# A check waits for its answer longer than a page: the reachability test gives officials days.
CHECK_WINDOW = timedelta(days=7)


class Outcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"  # a page
    CONFIRMED = "confirmed"  # a bulletin delivery
    ALREADY = "already"  # it names a delivery already answered: nothing to do
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundReply:
    channel: str  # "telegram" or "sms"
    sender: str  # Telegram chat id, or E.164 number
    text: str
    reply_to: str | None = None  # the provider id of the message answered ("chat:message")


@dataclass(frozen=True, slots=True)
class Keyword:
    code: int | None


@dataclass(frozen=True, slots=True)
class ReplyResult:
    outcome: Outcome
    reason: str = ""
    delivery_id: int | None = None
    crisis_id: int | None = None


@dataclass(frozen=True, slots=True)
class _Candidate:
    delivery_id: int
    crisis_id: int | None
    mode: str
    provider_id: str | None
    created_at: datetime
    name: str
    awaiting: bool
    answered: bool
    page_id: int | None  # a page; None: a bulletin delivery


def parse(text: str) -> Keyword | None:
    """« OK », « ok. », « Oui », « OK 4821 », « 4821 ok merci »; None for anything else."""
    tokens = _TOKEN.findall(text.casefold())
    words = [t for t in tokens if not t.isdigit()]
    numbers = [t for t in tokens if t.isdigit()]
    if not KEYWORDS & set(words) or not set(words) <= KEYWORDS | COURTESY:
        return None
    if len(numbers) > 1 or any(len(n) > 4 for n in numbers):
        return None
    return Keyword(int(numbers[0]) if numbers else None)


async def _contact_ids(session: AsyncSession, *, channel: str, sender: str) -> list[int]:
    query = select(ContactChannel.contact_id).where(
        ContactChannel.kind == channel, ContactChannel.address == sender
    )
    return sorted(set((await session.exec(query)).all()))


def _lane(
    *, modes: frozenset[str], since: datetime, check_since: datetime
) -> sa.ColumnElement[bool]:
    """Pages and bulletins of a crisis of an answered mode; checks of an answered lane."""
    d = Delivery
    in_crisis = sa.and_(
        col(d.purpose).in_([Purpose.PAGE.value, Purpose.BULLETIN.value]),
        col(d.created_at) >= since,
        col(Crisis.mode).in_(sorted(modes)),
    )
    check = sa.and_(
        col(d.purpose) == Purpose.CHECK.value,
        col(d.crisis_id).is_(None),
        col(d.created_at) >= check_since,
        col(OutboxMessage.exercise).in_(sorted({m == CrisisMode.EXERCISE for m in modes})),
    )
    return sa.or_(in_crisis, check)


def _candidates_query(
    *, reply: InboundReply, contact_ids: list[int], lane: sa.ColumnElement[bool]
) -> sa.Select[Any]:
    d = Delivery
    return (
        sa.select(
            col(d.id),
            col(d.crisis_id),
            col(d.purpose),
            col(d.status),
            col(d.provider_id),
            col(d.created_at),
            col(d.recipient_name),
            col(Crisis.mode),
            col(OutboxMessage.exercise),
            col(Crisis.status),
            col(Bulletin.confirm_receipt),
            col(OutboxMessage.link),
        )
        .join(Crisis, col(Crisis.id) == d.crisis_id, isouter=True)
        .join(OutboxMessage, col(OutboxMessage.id) == d.message_id)
        .join(Bulletin, col(Bulletin.id) == d.bulletin_id, isouter=True)
        .where(
            col(d.contact_id).in_(contact_ids),
            col(d.channel) == reply.channel,
            col(d.address) == reply.sender,
            lane,
        )
        .order_by(col(d.id))
    )


async def _candidates(
    session: AsyncSession,
    *,
    reply: InboundReply,
    lane: sa.ColumnElement[bool],
) -> list[_Candidate]:
    """The pages, bulletin deliveries and checks sent to the sender on that channel, in `lane`.

    Found through the sender's contact (indexed `contact_id`), then checked on the address
    the delivery was really sent to.
    """
    contact_ids = await _contact_ids(session, channel=reply.channel, sender=reply.sender)
    if not contact_ids:
        return []
    query = _candidates_query(reply=reply, contact_ids=contact_ids, lane=lane)
    rows = (await session.execute(query)).all()
    pages = await _pages_by_digest(session, links=[row[-1] for row in rows])
    found = []
    for id_, crisis_id, purpose, status, provider_id, created_at, name, mode, *rest in rows:
        exercise, crisis_status, confirm_receipt, link = rest
        page = pages.get(paging.token_digest(_token(link))) if link else None
        if purpose == Purpose.CHECK:
            mode = CrisisMode.EXERCISE.value if exercise else CrisisMode.REAL.value
            answered = status == DeliveryStatus.CONFIRMED
            awaiting = status in _BULLETIN_AWAITING
        elif purpose == Purpose.PAGE:
            if page is None:
                continue
            answered = page.acknowledged_at is not None
            awaiting = not answered and crisis_status != CrisisStatus.CLOSED
        else:
            if not confirm_receipt:
                continue
            answered = status == DeliveryStatus.CONFIRMED
            awaiting = status in _BULLETIN_AWAITING
        found.append(
            _Candidate(
                delivery_id=id_,
                crisis_id=crisis_id,
                mode=mode,
                provider_id=provider_id,
                created_at=created_at,
                name=name or reply.sender,
                awaiting=awaiting,
                answered=answered,
                page_id=page.id if page is not None and purpose == Purpose.PAGE else None,
            )
        )
    return found


def _token(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


async def _pages_by_digest(
    session: AsyncSession, *, links: Sequence[str | None]
) -> dict[str, paging.CellPage]:
    digests = [
        paging.token_digest(_token(link)) for link in links if link and "/acquitter/" in link
    ]
    if not digests:
        return {}
    query = select(paging.CellPage).where(col(paging.CellPage.token_digest).in_(digests))
    return {page.token_digest: page for page in (await session.exec(query)).all()}


def choose(
    candidates: Sequence[_Candidate], *, keyword: Keyword, reply_to: str | None
) -> _Candidate | str:
    """The delivery the reply answers, or why none (French, for the operators)."""
    if reply_to is not None:
        named = [c for c in candidates if c.provider_id == reply_to]
        if not named:
            return "le message auquel elle répond n'attend pas de réponse (ou est trop ancien)"
    elif keyword.code is not None:
        code = keyword.code
        named = [c for c in candidates if c.delivery_id % confirmations.REPLY_CODE_MODULUS == code]
        if not named:
            return f"aucun message en attente de réponse ne porte le code {code:04d}"
    else:
        named = [c for c in candidates if c.awaiting]
        if not named:
            return "aucun message en attente de réponse pour cet expéditeur"
    awaiting = [c for c in named if c.awaiting]
    if not awaiting:
        answered = [c for c in named if c.answered]
        return answered[0] if answered else "ce message n'attend pas de réponse"
    if len({c.mode for c in awaiting}) > 1:
        return "réponse ambiguë : messages d'exercice et réels en attente ; ajoutez le code"
    newest = max(c.created_at for c in awaiting)
    latest = [c for c in awaiting if c.created_at == newest]
    if len(latest) > 1:
        return "réponse ambiguë : plusieurs messages en attente ; ajoutez le code"
    return latest[0]


async def record(
    session: AsyncSession,
    *,
    reply: InboundReply,
    modes: frozenset[str],
    window: timedelta,
    now: datetime,
) -> ReplyResult:
    """Record what the reply answers, in the caller's transaction, with its journal entry."""
    keyword = parse(reply.text) if reply.channel in REPLY_CHANNELS else None
    lane = _lane(modes=modes, since=now - window, check_since=now - max(window, CHECK_WINDOW))
    candidates = await _candidates(session, reply=reply, lane=lane)
    if keyword is None:
        chosen: _Candidate | str = "le texte n'est pas « OK » ou « OUI » suivi d'un code"
    elif not candidates:
        chosen = "expéditeur inconnu ou sans message récent"
    else:
        chosen = choose(candidates, keyword=keyword, reply_to=reply.reply_to)
    if isinstance(chosen, str):
        crises_named = {c.crisis_id for c in candidates}
        crisis_id = crises_named.pop() if len(crises_named) == 1 else None
        return await _unrecognised(
            session, reply=reply, reason=chosen, crisis_id=crisis_id, now=now
        )
    if not chosen.awaiting:
        return ReplyResult(Outcome.ALREADY, "", chosen.delivery_id, chosen.crisis_id)
    if chosen.page_id is not None:
        try:
            await paged_answers.acknowledge_reply(session, page_id=chosen.page_id, now=now)
        except Conflict:  # answered meanwhile (link, API, another reply)
            return ReplyResult(Outcome.ALREADY, "", chosen.delivery_id, chosen.crisis_id)
        return ReplyResult(Outcome.ACKNOWLEDGED, "", chosen.delivery_id, chosen.crisis_id)
    done = await confirmations.confirm_by_reply(
        session, delivery_id=chosen.delivery_id, name=chosen.name, now=now
    )
    outcome = Outcome.ALREADY if done.already else Outcome.CONFIRMED
    return ReplyResult(outcome, "", chosen.delivery_id, chosen.crisis_id)


async def _unrecognised(
    session: AsyncSession, *, reply: InboundReply, reason: str, crisis_id: int | None, now: datetime
) -> ReplyResult:
    await journal.append(
        session,
        actor=Actor(None, f"{reply.channel}:{reply.sender}"[:64], frozenset()),
        action="reply.unrecognised",
        now=now,
        crisis_id=crisis_id,
        payload={
            "channel": reply.channel,
            "sender": reply.sender,
            "text": reply.text[:MAX_TEXT],
            "reply_to": reply.reply_to,
            "reason": reason,
        },
    )
    return ReplyResult(Outcome.UNRECOGNISED, reason, None, crisis_id)


@dataclass(frozen=True, slots=True)
class Unrecognised:
    """A reply nobody could match, as the crisis page lists it."""

    at: datetime
    channel: str
    sender: str
    text: str
    reason: str


async def unrecognised(
    session: AsyncSession, *, crisis: Crisis, limit: int = 50
) -> list[Unrecognised]:
    """The crisis' own unmatched replies, and those of unknown senders since it was declared."""
    entry = journal.JournalEntry
    query = (
        select(entry)
        .where(
            entry.action == "reply.unrecognised",
            (col(entry.crisis_id) == crisis.id)
            | (col(entry.crisis_id).is_(None) & (col(entry.at) >= crisis.declared_at)),
        )
        .order_by(col(entry.id).desc())
        .limit(limit)
    )
    found = []
    for row in (await session.exec(query)).all():
        data = json.loads(row.payload)
        found.append(
            Unrecognised(
                row.at,
                str(data.get("channel", "")),
                str(data.get("sender", "")),
                str(data.get("text", "")),
                str(data.get("reason", "")),
            )
        )
    return found
