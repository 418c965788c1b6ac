"""The outbox: every message that leaves Tocsin is first a row, written with the action.

A publication, a clock alert or a page writes `OutboxMessage` rows (one rendering per channel)
and `Delivery` rows (one per recipient and channel) in the caller's transaction. The dispatcher
is the only reader that sends; it claims due rows, calls the channel, and records the outcome.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import UTCDateTime


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"
    TO_CALL = "to_call"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
# Not settled yet: the rows with a ``next_attempt_at`` (``ck_delivery_scheduled``).
UNSETTLED_STATUSES = (*DUE_STATUSES, DeliveryStatus.SENDING)
DELIVERED_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.CONFIRMED)


class Purpose(StrEnum):
    BULLETIN = "bulletin"
    CLOCK_ALERT = "clock_alert"
    PAGE = "page"
    TEST = "test"


class OutboxMessage(SQLModel, table=True):
    """One rendering for one channel, shared by all the deliveries that carry it."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int | None = Field(default=None, foreign_key="crisis.id", index=True)
    bulletin_id: int | None = Field(default=None, index=True)
    purpose: str = Field(max_length=20)
    channel: str = Field(max_length=20)
    subject: str = ""
    text: str = Field(sa_type=sa.Text)
    html: str | None = Field(default=None, sa_type=sa.Text)
    link: str | None = None
    exercise: bool = False
    # An X thread's posts, in order (``text`` holds them joined); NULL for a single message.
    thread: list[str] | None = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)


# Predicates of the partial indexes below; queries repeat them word for word, values written
# in the SQL, so that the planner can prove them (a bound parameter cannot).
CLAIMABLE = "status IN ('pending', 'retrying')"
URGENT = "purpose <> 'bulletin'"  # staff alerts: pages, clock alerts, tests
SENDING = "status = 'sending'"
# A delivery the dispatcher has still to send (pending, retrying) or is sending: the only
# rows with a ``next_attempt_at``. The check constraint keeps the two facts in step.
SCHEDULED = "next_attempt_at IS NOT NULL"
UNSETTLED = "status IN ('pending', 'retrying', 'sending')"


def _partial(name: str, *columns: str, where: str) -> sa.Index:
    """An index of the rows that match ``where`` only, on both databases."""
    return sa.Index(name, *columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))


class Delivery(SQLModel, table=True):
    """One message to one recipient over one channel, with its whole story."""

    __tablename__ = "delivery"
    # A claim writes ``status``, ``attempts`` and ``lease_until``, which no index holds nor
    # filters on: on PostgreSQL the claim is a HOT update (no index entry written; the table
    # keeps half of each page free for it, ``fillfactor`` 50, set by migration f3a9c2e7d1b6).
    # Recording the outcome clears ``next_attempt_at`` and leaves the claim indexes: the one
    # update per delivery that writes index entries. Those indexes are partial, holding only
    # the rows the dispatcher has still to settle.
    __table_args__ = (
        sa.CheckConstraint(f"({UNSETTLED}) = ({SCHEDULED})", name="ck_delivery_scheduled"),
        _partial("ix_delivery_claim", "next_attempt_at", "id", where=SCHEDULED),
        # Staff alerts (pages, clock alerts, tests) are claimed before earlier bulletins.
        _partial(
            "ix_delivery_claim_urgent", "next_attempt_at", "id", where=f"{SCHEDULED} AND {URGENT}"
        ),
        _partial(
            "ix_delivery_cascade_waiting",
            "next_attempt_at",
            where=f"{SCHEDULED} AND cascade_group IS NOT NULL",
        ),
        _partial("ix_delivery_cascade_group", "cascade_group", where="cascade_group IS NOT NULL"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Read from the delivery to its message, never the other way: no index of its own.
    message_id: int = Field(foreign_key="outbox_message.id")
    crisis_id: int | None = Field(default=None, foreign_key="crisis.id", index=True)
    bulletin_id: int | None = Field(default=None, index=True)
    purpose: str = Field(max_length=20)
    audience: str = Field(max_length=20)
    # In an exercise every delivery has audience `exercise`; this keeps the audience its
    # recipient plays (officials, media, public), so that the drill's ES48 can be scored.
    played_audience: str | None = Field(default=None, max_length=20)
    contact_id: int | None = Field(default=None, index=True)
    recipient_name: str = ""
    channel: str = Field(max_length=20)
    address: str
    status: str = Field(default=DeliveryStatus.PENDING, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    idempotency_key: str = Field(max_length=64, unique=True)
    provider_id: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirm_method: str | None = Field(default=None, max_length=20)
    confirmed_by: str | None = None
    cascade_group: str | None = Field(default=None, max_length=64)
    cascade_rank: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendering:
    """The text of one message for one channel."""

    channel: str
    text: str
    subject: str = ""
    html: str | None = None
    link: str | None = None
    thread: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRequest:
    """Who gets which rendering. `delay` holds a cascade's later channels back."""

    channel: str
    address: str
    audience: str
    played_audience: str | None = None
    recipient_name: str = ""
    contact_id: int | None = None
    cascade_group: str | None = None
    cascade_rank: int = 0
    delay: timedelta = timedelta(0)
    status: DeliveryStatus = DeliveryStatus.PENDING


def _first_attempt(request: DeliveryRequest, now: datetime) -> datetime | None:
    """When the dispatcher first tries; none for a row written settled (sent, to call)."""
    return now + request.delay if request.status in DUE_STATUSES else None


@dataclass(frozen=True, slots=True)
class Enqueued:
    messages: dict[str, int]
    deliveries: int


async def enqueue(
    session: AsyncSession,
    *,
    purpose: Purpose,
    renderings: Sequence[Rendering],
    requests: Sequence[DeliveryRequest],
    now: datetime,
    exercise: bool,
    crisis_id: int | None = None,
    bulletin_id: int | None = None,
) -> Enqueued:
    """Write the messages and their deliveries in the caller's transaction (batched inserts)."""
    message_ids: dict[str, int] = {}
    for rendering in renderings:
        message = OutboxMessage(
            crisis_id=crisis_id,
            bulletin_id=bulletin_id,
            purpose=purpose,
            channel=rendering.channel,
            subject=rendering.subject,
            text=rendering.text,
            html=rendering.html,
            link=rendering.link,
            exercise=exercise,
            thread=list(rendering.thread) or None,
            created_at=now,
        )
        session.add(message)
        await session.flush()
        assert message.id is not None
        message_ids[rendering.channel] = message.id
    rows = []
    for request in requests:
        if request.channel not in message_ids:
            raise ValueError(f"no rendering for channel {request.channel}")
        rows.append(
            {
                "message_id": message_ids[request.channel],
                "crisis_id": crisis_id,
                "bulletin_id": bulletin_id,
                "purpose": purpose.value,
                "audience": request.audience,
                "played_audience": request.played_audience,
                "contact_id": request.contact_id,
                "recipient_name": request.recipient_name,
                "channel": request.channel,
                "address": request.address,
                "status": request.status.value,
                "attempts": 0,
                "next_attempt_at": _first_attempt(request, now),
                "idempotency_key": uuid.uuid4().hex,
                "cascade_group": request.cascade_group,
                "cascade_rank": request.cascade_rank,
                "created_at": now,
            }
        )
    for start in range(0, len(rows), 2000):
        await session.execute(sa.insert(Delivery), rows[start : start + 2000])
    return Enqueued(message_ids, len(rows))


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """One message of `enqueue_many`: its renderings and who gets them."""

    renderings: Sequence[Rendering]
    requests: Sequence[DeliveryRequest]
    exercise: bool
    crisis_id: int | None = None


# PostgreSQL: each table of a burst in one statement over arrays (one plan, one executor run,
# one round trip) rather than one execution per row. The ids follow the arrays' order: the
# rows are sorted by ordinality before the INSERT draws them from the sequence, as SQLAlchemy's
# `sort_by_parameter_order` relies on, and come back sorted.
_MESSAGES_POSTGRES = sa.text(
    "WITH m AS (INSERT INTO outbox_message (crisis_id, purpose, channel, subject, text, html,"
    " link, exercise, thread, created_at)"
    " SELECT crisis_id, :purpose, channel, subject, text, html, link, exercise, thread,"
    " CAST(:now AS TIMESTAMPTZ)"
    " FROM unnest(CAST(:crisis_id AS INTEGER[]), CAST(:channel AS VARCHAR[]),"
    " CAST(:subject AS VARCHAR[]), CAST(:text AS TEXT[]), CAST(:html AS TEXT[]),"
    " CAST(:link AS VARCHAR[]), CAST(:exercise AS BOOLEAN[]), CAST(:thread AS JSON[]))"
    " WITH ORDINALITY AS u(crisis_id, channel, subject, text, html, link, exercise, thread, n)"
    " ORDER BY n RETURNING id)"
    " SELECT id FROM m ORDER BY id"
)
_DELIVERIES_POSTGRES = sa.text(
    "INSERT INTO delivery (message_id, crisis_id, purpose, audience, played_audience,"
    " contact_id, recipient_name, channel, address, status, attempts, next_attempt_at,"
    " idempotency_key, cascade_group, cascade_rank, created_at)"
    " SELECT message_id, crisis_id, :purpose, audience, played_audience, contact_id,"
    " recipient_name, channel, address, status, 0, next_attempt_at, idempotency_key,"
    " cascade_group, cascade_rank, CAST(:now AS TIMESTAMPTZ)"
    " FROM unnest(CAST(:message_id AS INTEGER[]), CAST(:crisis_id AS INTEGER[]),"
    " CAST(:audience AS VARCHAR[]), CAST(:played_audience AS VARCHAR[]),"
    " CAST(:contact_id AS INTEGER[]), CAST(:recipient_name AS VARCHAR[]),"
    " CAST(:channel AS VARCHAR[]), CAST(:address AS VARCHAR[]), CAST(:status AS VARCHAR[]),"
    " CAST(:next_attempt_at AS TIMESTAMPTZ[]), CAST(:idempotency_key AS VARCHAR[]),"
    " CAST(:cascade_group AS VARCHAR[]), CAST(:cascade_rank AS INTEGER[]))"
    " WITH ORDINALITY AS u(message_id, crisis_id, audience, played_audience, contact_id,"
    " recipient_name, channel, address, status, next_attempt_at, idempotency_key,"
    " cascade_group, cascade_rank, n)"
    " ORDER BY n"
)


def _columns(rows: list[dict[str, object]], names: Sequence[str]) -> dict[str, list[object]]:
    return {name: [row[name] for row in rows] for name in names}


async def _new_message_ids(session: AsyncSession, rows: list[dict[str, object]]) -> list[int]:
    """Insert message rows in one round trip and return their ids, in order.

    SQLite cannot return multi-row ids in parameter order, so SQLAlchemy would insert one row
    per statement: there, the writer holds the database lock (`BEGIN IMMEDIATE`) and numbers the
    rows itself after the highest id (a concurrent writer would hit the primary key, never a
    wrong id). PostgreSQL inserts them in one statement over arrays.
    """
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        names = ("crisis_id", "channel", "subject", "text", "html", "link", "exercise")
        threads = [json.dumps(row["thread"]) if row["thread"] else None for row in rows]
        params = _columns(rows, names) | {
            "thread": threads,  # JSON travels as text through the driver
            "purpose": rows[0]["purpose"],
            "now": rows[0]["created_at"],
        }
        return list((await conn.execute(_MESSAGES_POSTGRES, params)).scalars())
    highest = (await conn.execute(sa.select(sa.func.max(table.c.id)))).scalar() or 0
    ids = list(range(highest + 1, highest + 1 + len(rows)))
    await conn.execute(
        sa.insert(table), [row | {"id": id_} for row, id_ in zip(rows, ids, strict=True)]
    )
    return ids


async def enqueue_many(
    session: AsyncSession, *, purpose: Purpose, batch: Sequence[Outgoing], now: datetime
) -> int:
    """`enqueue` for many messages at once (clock alerts in bursts): batched Core inserts.

    Each item's renderings are one message per channel, shared by all its recipients.
    """
    message_rows: list[dict[str, object]] = [
        {
            "crisis_id": item.crisis_id,
            "bulletin_id": None,
            "purpose": purpose.value,
            "channel": r.channel,
            "subject": r.subject,
            "text": r.text,
            "html": r.html,
            "link": r.link,
            "exercise": item.exercise,
            "thread": list(r.thread) or None,
            "created_at": now,
        }
        for item in batch
        for r in item.renderings
    ]
    if not message_rows:
        return 0
    ids = iter(await _new_message_ids(session, message_rows))
    rows: list[dict[str, object]] = []
    for item in batch:
        by_channel = {rendering.channel: next(ids) for rendering in item.renderings}
        for request in item.requests:
            rows.append(
                {
                    "message_id": by_channel[request.channel],
                    "crisis_id": item.crisis_id,
                    "bulletin_id": None,
                    "purpose": purpose.value,
                    "audience": request.audience,
                    "played_audience": request.played_audience,
                    "contact_id": request.contact_id,
                    "recipient_name": request.recipient_name,
                    "channel": request.channel,
                    "address": request.address,
                    "status": request.status.value,
                    "attempts": 0,
                    "next_attempt_at": _first_attempt(request, now),
                    "idempotency_key": uuid.uuid4().hex,
                    "cascade_group": request.cascade_group,
                    "cascade_rank": request.cascade_rank,
                    "created_at": now,
                }
            )
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        names = (
            "message_id",
            "crisis_id",
            "audience",
            "played_audience",
            "contact_id",
            "recipient_name",
            "channel",
            "address",
            "status",
            "next_attempt_at",
            "idempotency_key",
            "cascade_group",
            "cascade_rank",
        )
        params = _columns(rows, names) | {"purpose": purpose.value, "now": now}
        await conn.execute(_DELIVERIES_POSTGRES, params)
        return len(rows)
    deliveries = Delivery.__table__  # type: ignore[attr-defined]
    for start in range(0, len(rows), 2000):
        await conn.execute(sa.insert(deliveries), rows[start : start + 2000])
    return len(rows)
