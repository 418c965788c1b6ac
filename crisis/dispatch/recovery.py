"""Deliveries left ``sending`` put back: a lease run out, dead instances' claims, a stop.

Their outcome is unknown, so each goes back to ``retrying`` (due now, resent with the same
key) with, in French, what its channel guarantees about the resend; a delivery only queued
at a stop goes back to ``pending`` with its attempt not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.dispatch.guarantees import after_crash_sql
from crisis.dispatch.outbox import Delivery, DeliveryStatus
from crisis.dispatch.rows import SENDING

__all__ = [
    "Held",
    "lease_ran_out",
    "recover_claims",
    "recover_expired",
    "release",
    "release_sending",
]

DELIVERY = Delivery.metadata.tables[Delivery.__tablename__]
# A delivery left ``sending`` by a stop or a crash says, in French, what its channel
# guarantees about the resend (same key: recognised, or possibly received twice).
INTERRUPTED = after_crash_sql(DELIVERY.c.channel)


def lease_ran_out(*, now: datetime, lease: timedelta) -> sa.ColumnElement[bool]:
    """Deliveries whose claim's lease has run out (with ``SENDING``: a crash's leftovers)."""
    columns = DELIVERY.c
    return sa.and_(columns.next_attempt_at < now - lease, columns.lease_until < now)


async def recover_expired(session: AsyncSession, *, now: datetime, lease: timedelta) -> int:
    """Put deliveries left ``sending`` past their lease (a crash) back to ``retrying``.

    A delivery is claimed only once due, with a lease of ``lease``: one whose lease has run
    out was due before ``now - lease``. That bound lets the claim index find them (no index
    may name the status, or claims would write index entries); a lease made longer since
    the claim only delays the recovery by the difference.
    """
    result = await (await session.connection()).execute(
        sa.update(DELIVERY)
        .where(lease_ran_out(now=now, lease=lease), sa.text(SENDING))
        .values(
            status=DeliveryStatus.RETRYING,
            next_attempt_at=now,
            lease_until=None,
            last_error=INTERRUPTED,
        )
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class Held:
    """A delivery this instance claimed and has not recorded, at a stop: ``started`` if its
    send began (its outcome is unknown), else it was only queued."""

    id: int
    attempts: int
    started: bool


def _interrupted(now: datetime) -> dict[str, object]:
    return {
        "status": DeliveryStatus.RETRYING,
        "next_attempt_at": now,
        "lease_until": None,
        "claimed_by": None,
        "last_error": INTERRUPTED,
    }


async def recover_claims(session: AsyncSession, *, claimants: Sequence[str], now: datetime) -> int:
    """Put the deliveries that dead instances left ``sending`` back to ``retrying``, due now.

    Read off the claim index (the unsettled rows only): this runs when an instance died, not
    on every tick, and ``claimed_by`` stays out of every index so that claims stay HOT.
    """
    columns = DELIVERY.c
    result = await (await session.connection()).execute(
        sa.update(DELIVERY)
        .where(
            columns.next_attempt_at.is_not(None),
            sa.text(SENDING),
            columns.claimed_by.in_(list(claimants)),
        )
        .values(**_interrupted(now))
    )
    return int(result.rowcount or 0)


async def release_sending(session: AsyncSession, *, now: datetime) -> int:
    """SQLite, at a worker's start: every ``sending`` row was left by the one earlier worker."""
    columns = DELIVERY.c
    result = await (await session.connection()).execute(
        sa.update(DELIVERY)
        .where(columns.next_attempt_at.is_not(None), sa.text(SENDING))
        .values(**_interrupted(now))
    )
    return int(result.rowcount or 0)


async def release(session: AsyncSession, *, held: Sequence[Held], now: datetime) -> int:
    """At a stop, give back what this instance still holds, each row fenced by its attempt.

    A delivery only queued goes back to ``pending`` with its attempt not counted; one whose
    send began goes to ``retrying`` (its outcome is unknown: the resend keeps the key).
    """
    columns = DELIVERY.c
    released = 0
    connection = await session.connection()
    for started, attempts_back in ((False, 1), (True, 0)):
        group = [h for h in held if h.started is started]
        if not group:
            continue
        status = DeliveryStatus.RETRYING if started else DeliveryStatus.PENDING
        error = INTERRUPTED if started else columns.last_error
        for start in range(0, len(group), 500):
            chunk = group[start : start + 500]
            fence = sa.tuple_(columns.id, columns.attempts).in_([(h.id, h.attempts) for h in chunk])
            result = await connection.execute(
                sa.update(DELIVERY)
                .where(fence, sa.text(SENDING))
                .values(
                    status=status,
                    attempts=columns.attempts - attempts_back,
                    next_attempt_at=now,
                    lease_until=None,
                    claimed_by=None,
                    last_error=error,
                )
            )
            released += int(result.rowcount or 0)
    return released
