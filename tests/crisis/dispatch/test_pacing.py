"""The dispatcher's pacing at Telegram's limits: 30 a second per bot, one a second per chat,
20 a minute per group or channel; a 429 pauses the channel.

Every test runs the pacing on one manual clock whose sleeps move it, so no test waits.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from channels.base import ChannelHealth, Message, Receipt, Recipient
from channels.config import ChannelsConfig, TelegramConfig
from channels.errors import TransientChannelError
from channels.kinds import ChannelKind
from channels.ratelimit import ProviderLimits, RateLimiters
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from crisis.dispatch.dispatcher import Dispatcher
from crisis.dispatch.pacing import Pacer, build_pacer
from tests.channels.conftest import ManualClock
from tests.crisis.dispatch_support import deliveries, enqueue, statuses
from tests.support import FrozenClock

TELEGRAM = ChannelsConfig(telegram=TelegramConfig(token="42:secret"))


def limiters(clock: ManualClock, *, settle: float = 0.0) -> RateLimiters:
    """Sleeps that move ``clock``; after ``settle`` real seconds, so that the answers to the
    requests in flight come back before time jumps (a sleep woken meanwhile does not move it).
    """

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(settle)
        clock.advance(seconds)

    return RateLimiters(clock=clock, sleep=sleep)


@dataclass
class TimedChannel:
    """A Telegram stand-in that answers at once and notes when each message left."""

    clock: ManualClock
    sent: list[tuple[float, str, str]] = field(default_factory=list)  # (instant, chat, text)
    refuse_first: float | None = None  # a 429 with this retry_after, once

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.TELEGRAM

    @property
    def name(self) -> str:
        return "telegram"

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        if self.refuse_first is not None:
            retry_after, self.refuse_first = self.refuse_first, None
            raise TransientChannelError(
                "Telegram : limite", kind=ChannelKind.TELEGRAM, retry_after=retry_after
            )
        self.sent.append((self.clock(), recipient.address, message.text))
        return Receipt(provider_id=f"tg-{len(self.sent)}", raw_status="ok")

    async def check(self) -> ChannelHealth:
        return ChannelHealth(kind=self.kind, name="telegram", ok=True, detail="ok")

    async def aclose(self) -> None:
        return None


def paced(db: Database, channel: TimedChannel, clock: ManualClock) -> Dispatcher:
    """The production pacing, read from the Telegram section, around ``channel``."""
    return Dispatcher(
        db=db,
        real={ChannelKind.TELEGRAM: channel},
        exercise={},
        real_config=TELEGRAM,
        limiters=limiters(clock),
    )


async def send_all(
    db: Database, frozen: FrozenClock, worker: Dispatcher, chats: list[str], per_chat: int
) -> None:
    """Each alert to every chat in turn: ``per_chat`` alerts, in order."""
    for n in range(per_chat):
        await enqueue(db, now=frozen.now(), channel="telegram", addresses=chats, text=f"alerte {n}")
    report = await worker.run(frozen.now())
    assert report.sent == len(chats) * per_chat


def most_in_any(instants: list[float], period: float) -> int:
    return max(
        sum(1 for t in instants[i:] if t - start < period) for i, start in enumerate(instants)
    )


@pytest.fixture
def manual() -> ManualClock:
    return ManualClock()


async def test_the_dispatcher_never_sends_to_a_chat_within_its_interval(
    db: Database, clock: FrozenClock, manual: ManualClock
) -> None:
    channel = TimedChannel(manual)
    await send_all(db, clock, paced(db, channel, manual), [str(100 + c) for c in range(5)], 6)
    for chat in {chat for _, chat, _ in channel.sent}:
        times = [t for t, c, _ in channel.sent if c == chat]
        texts = [text for _, c, text in channel.sent if c == chat]
        assert texts == [f"alerte {n}" for n in range(6)]  # in order
        assert min(b - a for a, b in itertools.pairwise(times)) == pytest.approx(1.05), times


async def test_the_dispatcher_never_sends_more_than_30_a_second_per_bot(
    db: Database, clock: FrozenClock, manual: ManualClock
) -> None:
    channel = TimedChannel(manual)
    start = manual()
    await send_all(db, clock, paced(db, channel, manual), [str(100 + c) for c in range(60)], 4)
    instants = [t for t, _, _ in channel.sent]
    assert most_in_any(instants, 1.0) <= 30
    # 240 messages at 29.5 a second: about 8.1 s, not the 4 × 1.05 s of one chat
    assert manual() - start == pytest.approx(240 / 29.5, rel=0.05)


@pytest.mark.parametrize("group", ["-1001234567890", "@prefecture_somme"])
async def test_a_group_or_channel_gets_at_most_20_messages_a_minute(
    db: Database, clock: FrozenClock, manual: ManualClock, group: str
) -> None:
    channel = TimedChannel(manual)
    await send_all(db, clock, paced(db, channel, manual), [group, "555"], 25)
    to_group = [t for t, chat, _ in channel.sent if chat == group]
    assert len(to_group) == 25
    assert most_in_any(to_group, 60.0) <= 20
    to_chat = [t for t, chat, _ in channel.sent if chat == "555"]
    assert to_chat[-1] - to_chat[0] < 30  # a person's chat keeps its one a second


async def test_a_429_pauses_the_whole_channel_for_its_retry_after(
    db: Database, clock: FrozenClock, manual: ManualClock
) -> None:
    channel = TimedChannel(manual, refuse_first=5.0)
    start = manual()
    await enqueue(db, now=clock.now(), channel="telegram", addresses=["100", "101", "102"])
    report = await paced(db, channel, manual).run(clock.now())
    assert (report.retrying, report.sent) == (1, 2)
    assert all(t >= start + 5.0 for t, _, _ in channel.sent)  # the others waited too


# --- against the sandbox's fake Bot API, over HTTP, on the same manual clock ------------------


@pytest.fixture
async def sandbox(manual: ManualClock) -> AsyncIterator[Sandbox]:
    async with Sandbox(telegram_clock=manual) as running:
        yield running


def through_sandbox(db: Database, sandbox: Sandbox, manual: ManualClock) -> Dispatcher:
    return dispatcher_from_config(
        db=db,
        channels=ChannelsConfig(telegram=sandbox.config().telegram),
        exercise_channels=ChannelsConfig(),
        limiters=limiters(manual, settle=0.05),
    )


@pytest.mark.parametrize("chat_major", [False, True], ids=["alert-by-alert", "chat-by-chat"])
async def test_the_dispatcher_draws_no_429_and_drops_nothing_in_either_order(
    db: Database, clock: FrozenClock, sandbox: Sandbox, manual: ManualClock, chat_major: bool
) -> None:
    chats = [str(1000 + c) for c in range(6)]
    order = [(c, n) for c in chats for n in range(4)] if chat_major else None
    for chat, n in order or [(c, n) for n in range(4) for c in chats]:
        text = f"alerte {n} pour {chat}"
        await enqueue(db, now=clock.now(), channel="telegram", addresses=[chat], text=text)
    worker = through_sandbox(db, sandbox, manual)
    start = manual()
    report = await worker.run(clock.now())
    await worker.aclose()
    elapsed = manual() - start
    received = sandbox.telegram.state.received
    assert (report.sent, len(received)) == (24, 24)
    assert sandbox.telegram.state.rate_limited == 0
    for chat in chats:  # each chat gets its messages in order
        texts = [m.text for m in received if m.recipient == chat]
        assert texts == [f"alerte {n} pour {chat}" for n in range(4)]
    # 4 messages per chat at one per 1.05 s bound the time: about 3.15 s, not 24/1.05
    assert elapsed < 4 * 1.05 + 0.5


async def test_a_429_from_the_fake_delays_the_message_instead_of_dropping_it(
    db: Database, clock: FrozenClock, sandbox: Sandbox, manual: ManualClock
) -> None:
    sandbox.telegram.state.fail_next(status=429, retry_after=2)
    await enqueue(db, now=clock.now(), channel="telegram", addresses=["@prefecture_somme"])
    worker = through_sandbox(db, sandbox, manual)
    await worker.run(clock.now())
    assert await statuses(db) == {"retrying": 1}
    clock.advance(seconds=3)
    await worker.run(clock.now())
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(sandbox.telegram.state.received) == 1


async def test_a_blocked_chat_fails_with_its_reason(
    db: Database, clock: FrozenClock, sandbox: Sandbox, manual: ManualClock
) -> None:
    sandbox.telegram.state.reject("42")
    await enqueue(db, now=clock.now(), channel="telegram", addresses=["42"])
    worker = through_sandbox(db, sandbox, manual)
    await worker.run(clock.now())
    await worker.aclose()
    [delivery] = await deliveries(db)
    assert delivery.status == "failed"
    assert "bloqué" in (delivery.last_error or "")


async def test_dispatchers_built_with_one_set_of_limiters_share_the_bots_bucket(
    db: Database, sandbox: Sandbox, manual: ManualClock
) -> None:
    shared = limiters(manual)
    config = ChannelsConfig(telegram=sandbox.config().telegram)
    first, second = (
        dispatcher_from_config(db=db, channels=config, exercise_channels=config, limiters=shared)
        for _ in range(2)
    )
    buckets = {
        id(queue.pacer.bucket) for worker in (first, second) for queue in worker._queues.values()
    }
    assert len(buckets) == 1  # real and exercise sets of both, one bot
    for worker in (first, second):
        await worker.aclose()


async def test_an_urgent_delivery_goes_ahead_of_the_chats_already_waiting(
    manual: ManualClock,
) -> None:
    limits = ProviderLimits(key="t", rate=1000.0, recipient_interval=1.05)
    pacer: Pacer[int] = build_pacer(limits, limiters(manual))
    pacer.put([("100", 1, False), ("101", 2, False), ("100", 3, False)])
    pacer.put([("102", 4, True), ("100", 5, True)])
    first = [await pacer.take() for _ in range(3)]
    assert first == [("102", 4), ("100", 5), ("101", 2)]
    for key, _ in first:
        pacer.done(key)
    start = manual()
    for expected in (1, 3):  # chat 100's own order, one at a time, 1.05 s apart
        assert await pacer.take() == ("100", expected)
        pacer.done("100")
    assert await pacer.take() is None
    assert manual() - start == pytest.approx(2 * 1.05)
