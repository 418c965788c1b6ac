"""The tracking counters always equal a recount of the deliveries, whatever wrote them."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisis.app.db import Database
from crisis.app.escalation_tick import escalation_tick
from crisis.app.settings import Settings
from crisis.bulletin import tracking
from crisis.dispatch import recovery, store, tallies
from crisis.dispatch.outbox import Delivery, DeliveryStatus, OutboxMessage
from tests.conftest import _empty_tables

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
UNSETTLED = ("pending", "retrying", "sending")
STATUSES = tuple(s.value for s in DeliveryStatus)
BULLETINS = (1, 2, None)
_D = Delivery.__table__  # type: ignore[attr-defined]

Figures = Counter[tuple[int, str, str, str | None, str, str | None]]


def _row(message_id: int, n: int, draw: dict[str, Any]) -> dict[str, Any]:
    status = draw["status"]
    return {
        "message_id": message_id,
        "bulletin_id": draw["bulletin"],
        "purpose": draw["purpose"],
        "audience": draw["audience"],
        "played_audience": draw["played"],
        "channel": draw["channel"],
        "address": f"maire{n}@mairie-albert.fr",
        "status": status,
        "attempts": 0,
        "next_attempt_at": T0 if status in UNSETTLED else None,
        "idempotency_key": uuid.uuid4().hex,
        "confirm_method": "link" if status == "confirmed" else None,
        "cascade_rank": 0,
        "created_at": T0,
    }


ROWS = st.fixed_dictionaries(
    {
        "bulletin": st.sampled_from(BULLETINS),
        "purpose": st.sampled_from(["bulletin", "bulletin", "page"]),
        "audience": st.sampled_from(["officials", "media", "exercise"]),
        "played": st.sampled_from([None, "officials", "public"]),
        "channel": st.sampled_from(["email", "sms", "phone"]),
        "status": st.sampled_from(STATUSES),
    }
)
STEPS = st.one_of(
    st.tuples(st.just("insert"), st.lists(ROWS, min_size=1, max_size=6)),
    st.tuples(st.just("claim"), st.integers(1, 5)),
    st.tuples(st.just("record"), st.lists(st.sampled_from(["sent", "retrying", "failed"]))),
    st.tuples(st.just("release"), st.none()),
    st.tuples(
        st.just("set"),
        st.tuples(st.integers(2, 4), st.integers(0, 3), st.sampled_from(STATUSES)),
    ),
    st.tuples(st.just("move"), st.tuples(st.integers(2, 4), st.sampled_from(BULLETINS))),
    st.tuples(st.just("delete"), st.integers(3, 6)),
    st.tuples(st.just("compact"), st.none()),
)


async def _step(conn: Any, message_id: int, step: tuple[str, Any], counter: list[int]) -> None:
    """One write, through the dispatcher's own statements or a plain SQL one."""
    kind, arg = step
    d = _D.c
    if kind == "insert":
        rows = []
        for draw in arg:
            counter[0] += 1
            rows.append(_row(message_id, counter[0], draw))
        await conn.execute(sa.insert(Delivery), rows)
    elif kind in ("claim", "record", "release"):
        await _dispatcher_step(conn, kind, arg)
    elif kind == "set":  # a confirmation, a cancelled cascade, a call logged…
        modulo, rest, status = arg
        await conn.execute(
            sa.update(Delivery)
            .where(d.id % modulo == rest)
            .values(
                status=status,
                next_attempt_at=T0 if status in UNSETTLED else None,
                confirm_method="sms" if status == "confirmed" else d.confirm_method,
            )
        )
    elif kind == "move":
        modulo, bulletin = arg
        await conn.execute(
            sa.update(Delivery).where(d.id % modulo == 1).values(bulletin_id=bulletin)
        )
    elif kind == "delete":
        await conn.execute(sa.delete(Delivery).where(d.id % arg == 0))
    else:
        await tallies.compact(conn)


async def _dispatcher_step(conn: Any, kind: str, arg: Any) -> None:
    session = _Session(conn)
    if kind == "claim":
        await store.claim(session, now=T0, limit=arg, lease=LEASE)  # type: ignore[arg-type]
    elif kind == "release":
        await recovery.release_sending(session, now=T0)  # type: ignore[arg-type]
    else:
        d = _D.c
        sending = (
            await conn.execute(sa.select(d.id, d.attempts).where(d.status == "sending"))
        ).all()
        updates = [
            store.Update(
                id=id_,
                attempts=attempts,
                status=DeliveryStatus(status),
                sent_at=T0 if status == "sent" else None,
                next_attempt_at=T0 if status == "retrying" else None,
            )
            for (id_, attempts), status in zip(sending, arg, strict=False)
        ]
        await store.record(session, updates=updates)  # type: ignore[arg-type]


class _Session:
    """What the store's functions ask of a session: its connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def connection(self) -> Any:
        return self._conn


async def _kept(conn: Any) -> Figures:
    kept: Figures = Counter()
    for bulletin in BULLETINS:
        if bulletin is None:
            continue
        for status, audience, played, channel, method, n in await conn.execute(
            tallies.figures(bulletin)
        ):
            kept[(bulletin, status, audience, played, channel, method)] += int(n)
    return kept


async def _recounted(conn: Any) -> Figures:
    found: Figures = Counter()
    for bulletin, status, audience, played, channel, method, n in await conn.execute(
        tallies.recount()
    ):
        found[(bulletin, status, audience, played, channel, method)] += n
    return found


async def _message(db: Database) -> int:
    async with db.transaction() as session:
        message = OutboxMessage(
            purpose="bulletin", channel="email", text="Crue", created_at=T0, bulletin_id=1
        )
        session.add(message)
        await session.flush()
        assert message.id is not None
        return message.id


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(transactions=st.lists(st.lists(STEPS, min_size=1, max_size=4), min_size=1, max_size=6))
def test_the_counters_equal_a_recount_of_the_deliveries_after_any_writes(
    database_url: str, transactions: list[list[tuple[str, Any]]]
) -> None:
    async def scenario() -> None:
        db = Database.from_url(database_url)
        try:
            message_id = await _message(db)
            counter = [0]
            for steps in transactions:
                async with db.transaction() as session:
                    conn = await session.connection()
                    for step in steps:
                        await _step(conn, message_id, step, counter)
                    assert await _kept(conn) == await _recounted(conn)  # inside, too
                async with db.read() as session:
                    conn = await session.connection()
                    assert await _kept(conn) == await _recounted(conn)
            async with db.transaction() as session:
                await tallies.compact(await session.connection())
            async with db.read() as session:
                conn = await session.connection()
                assert await _kept(conn) == await _recounted(conn)
                deltas = sa.select(sa.func.count()).where(sa.text("NOT settled"))
                assert await conn.scalar(deltas.select_from(tallies.TALLY)) == 0
        finally:
            await _empty_tables(db)
            await db.dispose()

    asyncio.run(scenario())


async def test_the_tracking_counts_of_a_bulletin_come_from_its_counters(db: Database) -> None:
    message_id = await _message(db)
    draws = [
        {"status": "sent", "channel": "email", "audience": "officials", "played": None},
        {"status": "sent", "channel": "sms", "audience": "officials", "played": None},
        {"status": "confirmed", "channel": "email", "audience": "media", "played": None},
        {"status": "failed", "channel": "email", "audience": "exercise", "played": "officials"},
    ]
    async with db.transaction() as session:
        conn = await session.connection()
        rows = [
            _row(message_id, n, {**draw, "bulletin": 1, "purpose": "bulletin"})
            for n, draw in enumerate(draws)
        ]
        await conn.execute(sa.insert(Delivery), rows)
        await conn.execute(
            sa.update(Delivery).where(_D.c.status == "failed").values(status="to_call")
        )
    async with db.read() as session:
        counted = await tracking.counts(session, bulletin_id=1)
        only_email = await tracking.counts(session, bulletin_id=1, audience="officials")
    assert counted.total == 4
    assert counted.counts == {"sent": 2, "confirmed": 1, "to_call": 1}
    assert counted.by_audience == {
        "officials": {"sent": 2},
        "media": {"confirmed": 1},
        "exercise": {"to_call": 1},
    }
    assert counted.by_played_audience == {"officials": {"to_call": 1}}
    assert counted.by_channel == {
        "email": {"sent": 1, "confirmed": 1, "to_call": 1},
        "sms": {"sent": 1},
    }
    assert counted.confirmed_by == {"link": 1}
    assert only_email.total == 2


async def test_concurrent_claims_of_one_bulletin_neither_wait_on_each_other_nor_miscount(
    db: Database,
) -> None:
    message_id = await _message(db)
    draw = {"bulletin": 1, "purpose": "bulletin", "audience": "officials", "played": None}
    async with db.transaction() as session:
        rows = [
            _row(message_id, n, {**draw, "channel": "email", "status": "pending"})
            for n in range(40)
        ]
        await (await session.connection()).execute(sa.insert(Delivery), rows)

    async def claim() -> int:
        async with db.transaction() as session:
            claimed = await store.claim(session, now=T0, limit=5, lease=LEASE)
            await asyncio.sleep(0)  # the other claims run while this one is open
            return len(claimed)

    claimed = await asyncio.gather(*(claim() for _ in range(4)))
    async with db.read() as session:
        counted = await tracking.counts(session, bulletin_id=1)
    assert sum(claimed) == 20
    assert counted.counts == {"sending": 20, "pending": 20}


async def test_the_leaders_bulletin_tick_folds_the_deltas_of_postgresql_into_settled_rows(
    db: Database, settings: Settings
) -> None:
    message_id = await _message(db)
    draw = {"bulletin": 1, "purpose": "bulletin", "audience": "officials", "played": None}
    for n in range(3):  # three statements: three deltas on PostgreSQL
        async with db.transaction() as session:
            row = _row(message_id, n, {**draw, "channel": "email", "status": "pending"})
            await (await session.connection()).execute(sa.insert(Delivery), [row])
    await escalation_tick(db, settings)(T0)
    async with db.read() as session:
        conn = await session.connection()
        rows = (
            await conn.execute(sa.select(tallies.TALLY.c.settled, tallies.TALLY.c.deliveries))
        ).all()
        counted = await tracking.counts(session, bulletin_id=1)
    assert [(bool(settled), n) for settled, n in rows] == [(True, 3)]
    assert counted.counts == {"pending": 3}
