"""Each channel fake failing in each way it can; the dispatcher retries and settles honestly.

Issue 22 item 3 (the channel half of the chaos suite): timeouts (the provider holds the
answer past the client's timeout, then delivers all the same), 429 with and without
``Retry-After``, 5xx, a dropped and a reset connection, an answer trickled slowly. For each,
the delivery ends settled (sent, or failed with its reason once the fault persists past the
retry budget), the retry waits for ``Retry-After``, and a message reaches its recipient twice
only where the channel declares it may (no idempotency key: e-mail under one Message-ID,
Telegram) and only after a timeout, whose outcome the client cannot know.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from channels.config import ChannelsConfig
from channels.ratelimit import RateLimiters
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.dispatch.dispatcher import DispatchTuning
from crisis.dispatch.outbox import Delivery
from crisis.dispatch.retry import RetryPolicy
from tests.crisis.dispatch_support import deliveries, enqueue
from tests.support import FrozenClock

pytestmark = pytest.mark.chaos

TIMEOUT = 0.25  # each adapter's timeout here; a hang outlasts it


@dataclass(frozen=True)
class Channel:
    kind: str
    fake: str
    address: str
    transient: int  # the status of a passing failure
    keyed: bool  # the provider recognises a resend by its key (no second delivery)
    http: bool = True


CHANNELS = [
    Channel("email", "smtp", "maire@mairie-corbie.fr", 451, keyed=False, http=False),
    Channel("telegram", "telegram", "-1001234567890", 502, keyed=False),
    Channel("sms", "sms", "+33612345678", 503, keyed=True),
    Channel("mastodon", "mastodon", "public", 503, keyed=True),
    Channel("matrix", "matrix", "!cellule:sandbox.local", 503, keyed=True),
]


@dataclass(frozen=True)
class Fault:
    name: str
    options: dict[str, object]
    http_only: bool = False
    retried: bool = True  # the first try fails in the client's eyes


FAULTS = [
    Fault("timeout", {"hang": TIMEOUT * 3}),
    Fault("429 with Retry-After", {"status": 429, "retry_after": 30}, http_only=True),
    Fault("429 without Retry-After", {"status": 429}, http_only=True),
    Fault("5xx", {}),  # the channel's own transient status
    Fault("connection dropped", {"drop": True}),
    Fault("connection reset", {"reset": True}),
    Fault("slow drip", {"drip": TIMEOUT / 4}, http_only=True, retried=False),
    Fault("drip past the timeout", {"drip": TIMEOUT * 1.5}, http_only=True),
]

TIMEOUTS = {"timeout", "drip past the timeout"}
CASES = [
    pytest.param(channel, fault, id=f"{channel.kind}-{fault.name}")
    for channel in CHANNELS
    for fault in FAULTS
    if channel.http or not fault.http_only
]


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


def _short_timeouts(config: ChannelsConfig, kind: str) -> ChannelsConfig:
    """Only ``kind``, with a short timeout and (e-mail) without the relay's pacing."""
    name = "smtp" if kind == "email" else kind
    section = getattr(config, name)
    update: dict[str, object] = {"timeout": TIMEOUT}
    if kind == "email":
        update["rate_per_second"] = 100_000.0
    return ChannelsConfig(**{name: section.model_copy(update=update)})


async def _settle(
    db: Database, clock: FrozenClock, sandbox: Sandbox, kind: str, policy: RetryPolicy
) -> Delivery:
    limiters = RateLimiters(clock=lambda: clock.now().timestamp())
    sandbox.telegram.clock = lambda: clock.now().timestamp()  # its flood control too
    worker = dispatcher_from_config(
        db=db,
        channels=_short_timeouts(sandbox.config(), kind),
        exercise_channels=ChannelsConfig(),
        tuning=DispatchTuning(retry=policy),
        rng=random.Random(22),
        limiters=limiters,
    )
    try:
        for _ in range(policy.max_attempts + 2):
            await worker.run(clock.now())
            [delivery] = await deliveries(db)
            if delivery.status in {"sent", "failed"}:
                return delivery
            clock.advance(seconds=policy.max_delay_seconds + 1)
    finally:
        await worker.aclose()
    raise AssertionError(f"never settled: {delivery.status} {delivery.last_error}")


def _script(sandbox: Sandbox, channel: Channel, fault: Fault, *, times: int) -> None:
    options = dict(fault.options)
    if fault.name == "5xx":
        options["status"] = channel.transient
    sandbox.states[channel.fake].fail_next(times=times, **options)  # type: ignore[arg-type]


POLICY = RetryPolicy(base_seconds=5, max_delay_seconds=60, max_attempts=3)


@pytest.mark.parametrize(("channel", "fault"), CASES)
async def test_a_passing_fault_is_retried_and_the_delivery_sent_once_or_within_its_window(
    db: Database, clock: FrozenClock, sandbox: Sandbox, channel: Channel, fault: Fault
) -> None:
    await enqueue(db, now=clock.now(), channel=channel.kind, addresses=[channel.address])
    created = clock.now()
    _script(sandbox, channel, fault, times=1)
    delivery = await _settle(db, clock, sandbox, channel.kind, POLICY)
    state = sandbox.states[channel.fake]
    assert delivery.status == "sent", delivery.last_error
    assert delivery.attempts == (2 if fault.retried else 1)
    if fault.options.get("retry_after"):
        assert delivery.sent_at is not None
        assert delivery.sent_at - created >= timedelta(seconds=30)
    # The recipient gets it once; twice at most after a timeout on a channel without a key
    # (an SMTP server gives up a message whose client left; an HTTP provider may not).
    window = 1 if fault.name in TIMEOUTS and not channel.keyed else 0
    assert state.delivered_twice <= window
    assert len(state.received) == 1 + state.delivered_twice


@pytest.mark.parametrize(("channel", "fault"), [c for c in CASES if c.values[1].retried])  # type: ignore[union-attr]
async def test_a_fault_that_persists_fails_the_delivery_after_its_budget_with_the_reason(
    db: Database, clock: FrozenClock, sandbox: Sandbox, channel: Channel, fault: Fault
) -> None:
    await enqueue(db, now=clock.now(), channel=channel.kind, addresses=[channel.address])
    _script(sandbox, channel, fault, times=50)
    delivery = await _settle(db, clock, sandbox, channel.kind, POLICY)
    assert delivery.status == "failed"
    assert delivery.attempts == POLICY.max_attempts
    assert (delivery.last_error or "").startswith(f"Abandon après {POLICY.max_attempts} essai(s)")
    state = sandbox.states[channel.fake]
    if fault.name not in TIMEOUTS:  # a provider too slow delivers; the others refused
        assert state.received == []
    assert state.delivered_twice <= (0 if channel.keyed else POLICY.max_attempts - 1)
