"""The outbox's tables: messages (one rendering per channel) and deliveries (one per recipient).

``crisis.dispatch.outbox`` writes them, ``crisis.dispatch.store`` claims and settles them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

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
    REVIEW = "review"  # a bulletin awaits validation, or its author hears the verdict
    TEST = "test"
    # A check that asks its recipient to answer « OK » outside any crisis (the officials'
    # reachability test): an inbound reply confirms the delivery it answers (`crisis.replies`).
    CHECK = "check"
    CIP_ANSWER = "cip_answer"  # an answer to a written request to the CIP (`crisis.cip.answering`)


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
    # The CAP 1.2 alert (XML) of a bulletin published to the public, on its webhook message.
    cap: str | None = Field(default=None, sa_type=sa.Text)
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
    # The worker instance that claimed it (``crisis.dispatch.instances``); in no index, so
    # that a claim stays a HOT update.
    claimed_by: str | None = Field(default=None, max_length=36)
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
