"""The Telegram scheduler against the fake Bot API enforcing 30/s and 1/s per chat.

Both run on one manual clock; the scheduler's sleeps move it, so no test waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from channels import registry
from channels.base import Channel, Message, Recipient
from channels.kinds import ChannelKind
from channels.ratelimit import RateLimiters, TokenBucket
from channels.sandbox import Sandbox
from channels.scheduler import PacedChannel
from tests.channels.conftest import ManualClock


@pytest.fixture
async def telegram(sandbox: Sandbox) -> AsyncIterator[Channel]:
    channel = registry.build_channel(ChannelKind.TELEGRAM, sandbox.config())
    assert channel is not None
    yield channel
    await channel.aclose()


def _paced(channel: Channel, clock: ManualClock) -> PacedChannel:
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    return PacedChannel(
        channel,
        overall=TokenBucket(rate=28.5, clock=clock),
        recipient_interval=1.05,
        max_in_flight=1,  # the fake clock moves only while nothing is in flight
        window=(28, 1.0),
        clock=clock,
        sleep=sleep,
    )


def _jobs(*, chats: int, per_chat: int, chat_major: bool) -> list[tuple[str, int]]:
    if chat_major:
        return [(str(1000 + c), n) for c in range(chats) for n in range(per_chat)]
    return [(str(1000 + c), n) for n in range(per_chat) for c in range(chats)]


@pytest.mark.parametrize("chat_major", [False, True], ids=["alert-by-alert", "chat-by-chat"])
async def test_the_scheduler_draws_no_429_and_drops_nothing_in_either_order(
    sandbox: Sandbox, telegram: Channel, clock: ManualClock, chat_major: bool
) -> None:
    paced = _paced(telegram, clock)
    jobs = _jobs(chats=6, per_chat=4, chat_major=chat_major)
    start = clock()
    await asyncio.gather(
        *(
            paced.send(
                Message(text=f"alerte {n} pour {chat}", idempotency_key=f"{chat}/{n}"),
                Recipient(kind=ChannelKind.TELEGRAM, address=chat),
            )
            for chat, n in jobs
        )
    )
    elapsed = clock() - start
    received = sandbox.telegram.state.received
    assert len(received) == len(jobs)
    assert sandbox.telegram.state.rate_limited == 0
    assert paced.stats.rate_limited == 0
    for chat in {chat for chat, _ in jobs}:  # each chat gets its messages in order
        texts = [m.text for m in received if m.recipient == chat]
        assert texts == [f"alerte {n} pour {chat}" for n in range(4)]
    # 4 messages per chat at one per 1.05 s bound the time: about 3.15 s, not 24/1.05
    assert elapsed < 4 * 1.05 + 0.5


async def test_a_429_puts_the_message_back_instead_of_dropping_it(
    sandbox: Sandbox, telegram: Channel, clock: ManualClock
) -> None:
    paced = _paced(telegram, clock)
    sandbox.telegram.state.fail_next(status=429, retry_after=2)
    receipt = await paced.send(
        Message(text="alerte", idempotency_key="k"),
        Recipient(kind=ChannelKind.TELEGRAM, address="@prefecture_somme"),
    )
    assert receipt.provider_id
    assert paced.stats.rate_limited == 1
    assert paced.stats.requeued_delays == [2.0]
    assert [m.text for m in sandbox.telegram.state.received] == ["alerte"]


async def test_a_permanent_error_reaches_the_caller(
    sandbox: Sandbox, telegram: Channel, clock: ManualClock
) -> None:
    paced = _paced(telegram, clock)
    sandbox.telegram.state.reject("42")
    with pytest.raises(Exception, match="bloqué"):
        await paced.send(
            Message(text="alerte", idempotency_key="k"),
            Recipient(kind=ChannelKind.TELEGRAM, address="42"),
        )
    assert paced.stats.failed == 1


def test_paced_channels_built_with_one_registry_share_their_bucket(sandbox: Sandbox) -> None:
    limiters = RateLimiters()
    config = sandbox.config()
    first = registry.build_channels(config, limiters=limiters)
    second = registry.build_channels(config, limiters=limiters)
    a, b = first[ChannelKind.TELEGRAM], second[ChannelKind.TELEGRAM]
    assert isinstance(a, PacedChannel) and isinstance(b, PacedChannel)
    assert a._overall is b._overall
