from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from channels.config import ChannelsConfig
from channels.email import message_id
from channels.ratelimit import RateLimiters
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.dispatch import recovery
from crisis.dispatch import store as dispatch_store
from crisis.dispatch.dispatcher import Dispatcher, DispatchTuning
from crisis.dispatch.outbox import Delivery, DeliveryStatus
from crisis.dispatch.retry import RetryPolicy
from crisis.journal import JournalEntry
from tests.conftest import ON_POSTGRESQL
from tests.crisis.dispatch_support import deliveries, emails, enqueue, make_crisis, statuses
from tests.support import FrozenClock


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


def fast(config: ChannelsConfig) -> ChannelsConfig:
    """The sandbox's e-mail and Telegram, without the production pacing of the relay.

    (Building every HTTP adapter costs ~0.5 s of TLS contexts per test: only what is used.)
    """
    assert config.smtp is not None
    smtp = config.smtp.model_copy(update={"rate_per_second": 100_000.0})
    return ChannelsConfig(smtp=smtp, telegram=config.telegram)


def dispatcher(
    db: Database, sandbox: Sandbox, *, tuning: DispatchTuning | None = None, **options: object
) -> Dispatcher:
    return dispatcher_from_config(
        db=db,
        channels=fast(sandbox.config()),
        exercise_channels=ChannelsConfig(),
        tuning=tuning,
        rng=random.Random(7),
        **options,
    )


async def test_a_due_email_is_sent_once_and_recorded_as_sent(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), addresses=["maire@mairie-abbeville.fr"])
    worker = dispatcher(db, sandbox)
    report = await worker.run(clock.now())
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert (report.claimed, report.sent) == (1, 1)
    assert delivery.status == "sent"
    assert delivery.sent_at == clock.now()
    assert delivery.attempts == 1
    assert delivery.lease_until is None
    [received] = sandbox.smtp.state.received
    assert received.recipient == "maire@mairie-abbeville.fr"
    assert received.key == delivery.provider_id
    assert received.key == message_id(
        idempotency_key=delivery.idempotency_key, domain="tocsin.local"
    )


async def test_a_delivery_not_yet_due_is_left_alone(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now() + timedelta(minutes=5), addresses=["maire@mairie-ham.fr"])
    worker = dispatcher(db, sandbox)
    report = await worker.run(clock.now())
    await worker.aclose()
    assert report.claimed == 0
    assert await statuses(db) == {"pending": 1}


async def test_a_rate_limited_message_waits_for_retry_after_on_the_injected_clock(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), channel="telegram", addresses=["123456"])
    sandbox.telegram.state.fail_next(status=429, retry_after=30)
    # The channel's pause runs on the same injected clock as the rows' next attempt.
    limiters = RateLimiters(clock=lambda: clock.now().timestamp())
    worker = dispatcher(db, sandbox, limiters=limiters)
    await worker.run(clock.now())
    [delivery] = await deliveries(db)
    assert delivery.status == "retrying"
    assert delivery.next_attempt_at >= clock.now() + timedelta(seconds=30)
    assert "Nouvel essai prévu" in (delivery.last_error or "")

    clock.advance(seconds=20)
    assert (await worker.run(clock.now())).claimed == 0
    clock.advance(seconds=40)
    report = await worker.run(clock.now())
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert report.sent == 1
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(sandbox.telegram.state.received) == 1


async def test_a_permanent_failure_fails_at_once_with_its_reason(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), addresses=["inconnu@mairie-peronne.fr"])
    sandbox.smtp.state.fail_next(status=554)
    worker = dispatcher(db, sandbox)
    await worker.run(clock.now())
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "refus définitif" in (delivery.last_error or "")


async def test_a_malformed_address_fails_naming_the_recipient(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), addresses=["pas-une-adresse"])
    worker = dispatcher(db, sandbox)
    await worker.run(clock.now())
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert delivery.status == "failed"
    assert "pas-une-adresse" in (delivery.last_error or "")
    assert sandbox.smtp.state.received == []


async def test_a_spent_retry_budget_fails_the_delivery_with_the_reason(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), addresses=["maire@mairie-rue.fr"])
    sandbox.smtp.state.fail_next(status=451, times=10)
    policy = RetryPolicy(base_seconds=10, max_attempts=3)
    worker = dispatcher(db, sandbox, tuning=DispatchTuning(retry=policy))
    for _ in range(3):
        await worker.run(clock.now())
        clock.advance(minutes=5)
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert (delivery.last_error or "").startswith(
        "Abandon après 3 essai(s) : SMTP : refus temporaire"
    )


async def test_back_off_grows_exponentially_with_jitter_below_the_cap() -> None:
    policy = RetryPolicy(base_seconds=2, factor=2, max_delay_seconds=60, jitter=0.25)
    rng = random.Random(1)
    delays = [policy.delay(attempts=n, retry_after=None, rng=rng) for n in range(1, 9)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(60.0, 2 * 2 ** (n - 1))
        assert 0.75 * ceiling <= delay <= ceiling
    assert policy.delay(attempts=1, retry_after=90, rng=rng) == 90


async def test_a_delivery_left_sending_by_a_crash_is_resent_after_its_lease_with_one_message_id(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), addresses=["maire@mairie-albert.fr"])
    tuning = DispatchTuning(lease_seconds=120)
    worker = dispatcher(db, sandbox, tuning=tuning)
    await worker.run(clock.now())
    [first] = await deliveries(db)
    # The process dies after the provider accepted the message, before recording it.
    async with db.transaction() as session:
        await session.execute(
            sa.update(Delivery).values(
                status="sending",
                next_attempt_at=first.created_at,  # due when it was claimed
                lease_until=clock.now() + timedelta(minutes=2),
            )
        )
    clock.advance(seconds=60)
    assert (await worker.run(clock.now())).claimed == 0
    clock.advance(seconds=61)
    report = await worker.run(clock.now())
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert (report.recovered, report.sent) == (1, 1)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.idempotency_key == first.idempotency_key
    keys = [m.key for m in sandbox.smtp.state.received]
    assert len(keys) == 2
    assert keys[0] == keys[1] == first.provider_id


async def test_an_outcome_of_a_lease_taken_over_does_not_overwrite_the_newer_attempt(
    db: Database, clock: FrozenClock
) -> None:
    await enqueue(db, now=clock.now(), addresses=["maire@mairie-corbie.fr"])
    lease = timedelta(seconds=10)
    async with db.transaction() as session:
        [old] = await dispatch_store.claim(session, now=clock.now(), limit=10, lease=lease)
    clock.advance(seconds=11)
    async with db.transaction() as session:
        await recovery.recover_expired(session, now=clock.now(), lease=lease)
        [new] = await dispatch_store.claim(session, now=clock.now(), limit=10, lease=lease)
        stale = dispatch_store.Update(
            id=old.id, attempts=old.attempts, status=DeliveryStatus.FAILED
        )
        await dispatch_store.record(session, updates=[stale])
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.attempts, new.attempts) == ("sending", 2, 2)


class CountingDatabase:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.transactions = 0

    def transaction(self):  # type: ignore[no-untyped-def]
        self.transactions += 1
        return self.db.transaction()


async def test_outcomes_are_recorded_in_batched_transactions(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), addresses=emails(300))
    sandbox.smtp.parse_bodies = False
    counting = CountingDatabase(db)
    tuning = DispatchTuning(claim_size=200, record_size=100, flush_seconds=5)
    worker = dispatcher_from_config(
        db=counting,
        channels=fast(sandbox.config()),
        exercise_channels=ChannelsConfig(),
        tuning=tuning,
    )
    report = await worker.run(clock.now())
    await worker.aclose()
    assert report.sent == 300
    assert await statuses(db) == {"sent": 300}
    # 3 claims (the last one short), 3 batches of 100 outcomes, 1 gauge reading
    assert counting.transactions <= 8
    assert sandbox.smtp.count == 300


async def test_the_relay_down_for_two_minutes_delays_deliveries_which_complete_after_it_returns(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), addresses=emails(40))
    worker = dispatcher(db, sandbox)
    port = sandbox.smtp.port
    await sandbox.smtp.stop()
    end_of_outage = clock.now() + timedelta(minutes=2)
    while clock.now() < end_of_outage:
        await worker.run(clock.now())
        assert "sent" not in await statuses(db)
        clock.advance(seconds=10)
    rows = await deliveries(db)
    assert {d.status for d in rows} == {"retrying"}
    assert all("serveur injoignable" in (d.last_error or "") for d in rows)
    await sandbox.smtp.start(port=port)
    for _ in range(30):
        await worker.run(clock.now())
        if await statuses(db) == {"sent": 40}:
            break
        clock.advance(seconds=10)
    await worker.aclose()
    assert await statuses(db) == {"sent": 40}
    assert sandbox.smtp.count == 40


async def test_the_public_page_is_marked_sent_without_any_adapter(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    crisis_id = await make_crisis(db, mode="real", now=clock.now())
    await enqueue(
        db,
        now=clock.now(),
        channel="public_page",
        addresses=["public"],
        audience="public",
        crisis_id=crisis_id,
    )
    worker = dispatcher(db, sandbox)
    await worker.run(clock.now())
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.provider_id) == ("sent", "public_page")
    assert all(state.received == [] for state in sandbox.states.values())


async def test_the_metrics_count_deliveries_by_channel_and_outcome(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), addresses=emails(3))
    await enqueue(db, now=clock.now() - timedelta(seconds=1), addresses=["x"])
    worker = dispatcher(db, sandbox)
    await worker.run(clock.now())
    await worker.aclose()
    registry = worker.metrics.registry
    sample = registry.get_sample_value
    assert sample("tocsin_deliveries_total", {"channel": "email", "outcome": "sent"}) == 3
    assert sample("tocsin_deliveries_total", {"channel": "email", "outcome": "failed"}) == 1
    assert sample("tocsin_deliveries_due") == 0


async def test_isolation_refusals_are_journaled(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    crisis_id = await make_crisis(db, mode="exercise", now=clock.now())
    await enqueue(
        db,
        now=clock.now(),
        addresses=["maire@mairie-amiens.fr"],
        audience="officials",
        crisis_id=crisis_id,
        exercise=False,
    )
    worker = dispatcher(db, sandbox)
    report = await worker.run(clock.now())
    await worker.aclose()
    assert report.refused == 1
    async with db.read() as session:
        entries = (await session.exec(sa.select(JournalEntry))).all()  # type: ignore[call-overload]
    assert [e[0].action for e in entries] == ["delivery.isolation_refused"]
    assert entries[0][0].crisis_id == crisis_id


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL")
async def test_two_dispatchers_on_postgresql_never_send_one_delivery_twice(
    db: Database, clock: FrozenClock, sandbox: Sandbox, database_url: str
) -> None:
    sandbox.smtp.parse_bodies = False
    await enqueue(db, now=clock.now(), addresses=emails(1000))
    other = Database.from_url(database_url)
    tuning = DispatchTuning(claim_size=25, window=100, record_size=25)
    first, second = (
        dispatcher(db, sandbox, tuning=tuning),
        dispatcher(other, sandbox, tuning=tuning),
    )
    try:
        one, two = await asyncio.gather(first.run(clock.now()), second.run(clock.now()))
    finally:
        await first.aclose()
        await second.aclose()
        await other.dispose()
    assert one.claimed > 0 and two.claimed > 0
    assert one.claimed + two.claimed == 1000
    assert sandbox.smtp.count == 1000
    rows = await deliveries(db)
    assert {(d.status, d.attempts) for d in rows} == {("sent", 1)}


async def test_a_tick_dispatches_in_the_background_and_closing_stops_claiming(
    db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    await enqueue(db, now=clock.now(), addresses=emails(5))
    worker = dispatcher(db, sandbox)
    await worker.tick(clock.now())
    await worker.tick(clock.now())  # a pass is running: this one only asks for another
    for _ in range(200):
        if await statuses(db) == {"sent": 5}:
            break
        await asyncio.sleep(0.02)
    await worker.aclose()
    assert await statuses(db) == {"sent": 5}
    await enqueue(db, now=clock.now(), addresses=["tardif@mairie-ham.fr"])
    await worker.tick(clock.now())  # closed: nothing more is claimed
    assert await statuses(db) == {"sent": 5, "pending": 1}
