"""ES48 coverage from aggregates equals the row-by-row rule on varied deliveries (issue 16 item 1).

The reference below is the rule as it was computed before, delivery by delivery in Python: who
counts (this crisis, bulletins, since the COD, not cancelled, the played audience in an
exercise), when a person is reached (confirmed, else sent, else written), the public's channels.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisis.app.db import Database
from crisis.cell import coverage
from crisis.dispatch.outbox import UNSETTLED_STATUSES, Delivery, DeliveryStatus, OutboxMessage
from crisis.vocabulary import CrisisMode
from tests.crisis.lifecycle_support import new_crisis

SINCE = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
NAMES = ("Émile Abbé", "emile abbé", "Zoé", "Ange", "ÉLU 12", "Œdipe", "élu 3", "")
AUDIENCES = ("officials", "media", "public", "staff", "exercise")
PLAYED = (None, "officials", "media", "public")
CHANNELS = ("email", "sms", "x", "mastodon", "public_page", "phone")


@dataclass(frozen=True)
class Row:
    mine: bool
    purpose: str
    audience: str
    played: str | None
    contact_id: int | None
    name: str
    channel: str
    status: str
    created: int  # seconds after the COD (negative: before)
    sent: int | None
    confirmed: int | None


rows_strategy = st.lists(
    st.builds(
        Row,
        mine=st.sampled_from((True, True, True, False)),
        purpose=st.sampled_from(("bulletin", "bulletin", "bulletin", "page")),
        audience=st.sampled_from(AUDIENCES),
        played=st.sampled_from(PLAYED),
        contact_id=st.none() | st.integers(1, 8),
        name=st.sampled_from(NAMES),
        channel=st.sampled_from(CHANNELS),
        status=st.sampled_from([s.value for s in DeliveryStatus]),
        created=st.integers(-600, 3600),
        sent=st.none() | st.integers(0, 4000),
        confirmed=st.none() | st.integers(0, 4000),
    ),
    max_size=40,
)


def _at(seconds: int | None) -> datetime | None:
    return None if seconds is None else SINCE + timedelta(seconds=seconds, microseconds=seconds)


def reference(rows: list[Row], *, exercise: bool) -> dict[str, Any]:
    """The coverage, computed delivery by delivery as the rule reads (in insertion order)."""
    kept = [
        r
        for r in rows
        if r.mine
        and r.purpose == "bulletin"
        and _at(r.created) >= SINCE  # type: ignore[operator]
        and r.status != "cancelled"
        and (r.played if exercise else r.audience) in coverage.AUDIENCES
    ]
    view: dict[str, Any] = {}
    for audience in ("officials", "media"):
        names: dict[int, str] = {}
        reached: dict[int, datetime] = {}
        for r in kept:
            if (r.played if exercise else r.audience) != audience or r.contact_id is None:
                continue
            names.setdefault(r.contact_id, r.name)
            if r.status in ("sent", "confirmed"):
                first = _at(r.confirmed) if r.status == "confirmed" else None
                at = first or _at(r.sent) or _at(r.created)
                assert at is not None
                reached[r.contact_id] = min(at, reached.get(r.contact_id, at))
        missing = sorted(names[c] for c in names if c not in reached)
        covered = max(reached.values()) if names and not missing else None
        view[audience] = (covered, len(reached), len(names), missing)
    channels: set[str] = set()
    sent: dict[str, datetime] = {}
    for r in kept:
        if (r.played if exercise else r.audience) != "public":
            continue
        channels.add(r.channel)
        if r.status == "sent":
            at = _at(r.sent) or _at(r.created)
            assert at is not None
            sent[r.channel] = min(at, sent.get(r.channel, at))
    missing_channels = sorted(channels - set(sent))
    view["public"] = (min(sent.values(), default=None), len(sent), len(channels), missing_channels)
    return view


async def _store(db: Database, rows: list[Row], *, exercise: bool) -> tuple[int, int]:
    mode = CrisisMode.EXERCISE if exercise else CrisisMode.REAL
    async with db.transaction() as session:
        mine = await new_crisis(session, now=SINCE, mode=mode)
        other = await new_crisis(session, now=SINCE, mode=mode)
        message = OutboxMessage(purpose="bulletin", channel="email", text="", created_at=SINCE)
        session.add(message)
        await session.flush()
        assert mine.id and other.id and message.id
        values = [
            {
                "message_id": message.id,
                "crisis_id": mine.id if r.mine else other.id,
                "bulletin_id": 1,
                "purpose": r.purpose,
                "audience": r.audience,
                "played_audience": r.played,
                "contact_id": r.contact_id,
                "recipient_name": r.name,
                "channel": r.channel,
                "address": "x",
                "status": r.status,
                "next_attempt_at": _at(r.created) if r.status in UNSETTLED_STATUSES else None,
                "idempotency_key": uuid.uuid4().hex,
                "sent_at": _at(r.sent),
                "confirmed_at": _at(r.confirmed),
                "created_at": _at(r.created),
            }
            for r in rows
        ]
        if values:
            await (await session.connection()).execute(sa.insert(Delivery), values)
        return mine.id, other.id


async def _check(url: str, rows: list[Row], exercise: bool) -> None:
    db = Database.from_url(url)
    try:
        crisis_id, _ = await _store(db, rows, exercise=exercise)
        async with db.read() as session:
            found = await coverage.es48(
                session, crisis_id=crisis_id, since=SINCE, exercise=exercise, missing_shown=3
            )
            pages = {
                a: await coverage.missing_page(
                    session,
                    crisis_id=crisis_id,
                    since=SINCE,
                    exercise=exercise,
                    audience=a,
                    limit=2,
                    offset=2,
                )
                for a in ("officials", "media")
            }
        expected = reference(rows, exercise=exercise)
        for audience in ("officials", "media"):
            covered, reached, total, missing = expected[audience]
            got = getattr(found, audience)
            assert (got.covered_at, got.reached, got.total) == (covered, reached, total)
            assert got.missing == tuple(missing[:3]) and got.missing_count == len(missing)
            assert pages[audience] == missing[2:4]
        covered, reached, total, missing = expected["public"]
        public = found.public
        assert (public.covered_at, public.reached, public.total) == (covered, reached, total)
        assert list(public.missing) == missing and public.missing_count == len(missing)
        instants = [expected[a][0] for a in coverage.AUDIENCES]
        assert found.met_at == (None if None in instants else max(instants))
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM delivery"))
            await conn.execute(sa.text("DELETE FROM outbox_message"))
        await db.dispose()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=rows_strategy, exercise=st.booleans())
def test_es48_coverage_from_aggregates_equals_the_rule_read_delivery_by_delivery(
    database_url: str, db: Database, rows: list[Row], exercise: bool
) -> None:
    asyncio.run(_check(database_url, rows, exercise))
