"""ES48's figures kept as deliveries change equal the ones computed from the deliveries
(issue 16 item 1), after random sequences of inserts, sends, failures, phone confirmations and
COD instants (recorded, then recorded again earlier or later), real or exercise.

The figures computed from the deliveries are the aggregate `test_coverage_aggregates` checks
against the rule read delivery by delivery: here they are the oracle of the kept ones.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisis.actors import Actor, Role
from crisis.app.db import Database
from crisis.bulletin import confirmations
from crisis.cell import coverage
from crisis.dispatch import reach, store
from crisis.dispatch.inserts import insert_deliveries
from crisis.dispatch.outbox import Delivery, DeliveryStatus, OutboxMessage
from crisis.vocabulary import CrisisMode
from tests.crisis.lifecycle_support import new_crisis

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
NAMES = ("Émile Abbé", "Zoé", "Ange", "ÉLU 12", "élu 3", "")
OPERATOR = Actor(None, "operateur", frozenset({Role.OPERATOR}))


@dataclass(frozen=True)
class Insert:
    at: int  # seconds after T0
    rows: tuple[tuple[int, str, str, str, str], ...]  # contact, audience, name, channel, status


@dataclass(frozen=True)
class Send:
    pick: int
    ok: bool
    at: int


@dataclass(frozen=True)
class Confirm:
    pick: int
    at: int


@dataclass(frozen=True)
class Cod:
    at: int


person = st.tuples(
    st.integers(1, 6),
    st.sampled_from(("officials", "officials", "media", "public", "staff")),
    st.sampled_from(NAMES),
    st.sampled_from(("email", "sms", "x", "phone")),
    st.sampled_from(("pending", "pending", "to_call")),
)
seconds = st.integers(0, 1800)
operations = st.lists(
    st.one_of(
        st.builds(Insert, at=seconds, rows=st.lists(person, min_size=1, max_size=6).map(tuple)),
        st.builds(Send, pick=st.integers(0, 99), ok=st.booleans(), at=seconds),
        st.builds(Confirm, pick=st.integers(0, 99), at=seconds),
        st.builds(Cod, at=seconds),
    ),
    min_size=2,
    max_size=14,
)


async def _setup(db: Database, exercise: bool) -> tuple[int, int]:
    mode = CrisisMode.EXERCISE if exercise else CrisisMode.REAL
    async with db.transaction() as session:
        crisis = await new_crisis(session, now=T0, mode=mode)
        message = OutboxMessage(purpose="bulletin", channel="email", text="", created_at=T0)
        session.add(message)
        await session.flush()
        assert crisis.id and message.id
        return crisis.id, message.id


async def _apply(db: Database, op: object, *, crisis_id: int, message: int, exercise: bool) -> None:
    async with db.transaction() as session:
        conn = await session.connection()
        if isinstance(op, Insert):
            at = T0 + timedelta(seconds=op.at)
            rows: list[dict[str, object]] = [
                {
                    "message_id": message,
                    "crisis_id": crisis_id,
                    "bulletin_id": 1,
                    "audience": "exercise" if exercise else audience,
                    "played_audience": audience if exercise else None,
                    "contact_id": contact,
                    "recipient_name": name,
                    "channel": channel,
                    "address": "x",
                    "status": status,
                    "next_attempt_at": at if status == "pending" else None,
                    "idempotency_key": uuid.uuid4().hex,
                    "cascade_group": None,
                    "cascade_rank": 0,
                    "purpose": "bulletin",
                    "attempts": 0,
                    "created_at": at,
                }
                for contact, audience, name, channel, status in op.rows
            ]
            await insert_deliveries(session, rows, purpose="bulletin", now=at)
            return
        d = Delivery.__table__.c  # type: ignore[attr-defined]
        ids = list((await conn.execute(sa.select(d.id).order_by(d.id))).scalars())
        if isinstance(op, Cod):
            since = T0 + timedelta(seconds=op.at)
            await coverage.keep(session, crisis_id=crisis_id, since=since, exercise=exercise)
            return
        if not ids:
            return
        delivery_id = ids[op.pick % len(ids)]  # type: ignore[attr-defined]
        now = T0 + timedelta(seconds=op.at)  # type: ignore[attr-defined]
        if isinstance(op, Send):
            # As a claim leaves it, then the outcome written back as the dispatcher does.
            claimed = await conn.execute(
                sa.update(Delivery)
                .where(d.id == delivery_id, d.status.in_(("pending", "retrying")))
                .values(status="sending", attempts=d.attempts + 1)
                .returning(d.attempts)
            )
            attempts = claimed.scalar()
            if attempts is None:
                return
            outcome = DeliveryStatus.SENT if op.ok else DeliveryStatus.FAILED
            sent_at = now if op.ok else None
            update = store.Update(delivery_id, attempts, outcome, sent_at=sent_at)
            await store.record(session, updates=[update])
            return
        current = (await conn.execute(sa.select(d.status).where(d.id == delivery_id))).scalar()
        if current in confirmations.PHONE_CONFIRMABLE:
            await confirmations.confirm_by_phone(
                session, actor=OPERATOR, delivery_id=delivery_id, note="appelé", now=now
            )


async def _compare(db: Database, crisis_id: int, since: datetime, exercise: bool) -> None:
    """The kept figures (used: their basis is this COD) equal the computed ones."""
    async with db.read() as session:
        conn = await session.connection()
        assert await reach.basis(conn, crisis_id=crisis_id) == (since, exercise)
        views = []
        for kept in (True, False):
            found = await coverage.es48(
                session,
                crisis_id=crisis_id,
                since=since,
                exercise=exercise,
                missing_shown=2,
                kept=kept,
            )
            pages = [
                await coverage.missing_page(
                    session,
                    crisis_id=crisis_id,
                    since=since,
                    exercise=exercise,
                    audience=audience,
                    limit=2,
                    offset=1,
                    kept=kept,
                )
                for audience in ("officials", "media")
            ]
            views.append((found.view(), pages))
        kept_view, computed = views
        assert kept_view == computed


async def _check(url: str, ops: list[object], first_cod: int, exercise: bool) -> None:
    db = Database.from_url(url)
    try:
        crisis_id, message = await _setup(db, exercise)
        since: datetime | None = None
        for op in [*ops[:first_cod], Cod(first_cod * 60), *ops[first_cod:]]:
            await _apply(db, op, crisis_id=crisis_id, message=message, exercise=exercise)
            if isinstance(op, Cod):
                since = T0 + timedelta(seconds=op.at)
            if since is not None:
                await _compare(db, crisis_id, since, exercise)
    finally:
        async with db.engine.begin() as conn:
            for table in ("reach_person", "reach_tally", "delivery", "outbox_message"):
                await conn.execute(sa.text(f"DELETE FROM {table}"))
        await db.dispose()


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, first_cod=st.integers(0, 4), exercise=st.booleans())
def test_es48_figures_kept_as_deliveries_change_equal_the_ones_computed_from_deliveries(
    database_url: str, db: Database, ops: list[object], first_cod: int, exercise: bool
) -> None:
    asyncio.run(_check(database_url, ops, min(first_cod, len(ops)), exercise))
