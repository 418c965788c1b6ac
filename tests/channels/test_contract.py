"""Every adapter, against its sandbox, honours the same contract."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from channels import registry
from channels.base import Channel, Message, Recipient
from channels.errors import PermanentChannelError, TransientChannelError
from channels.kinds import ChannelKind
from channels.sandbox import Sandbox
from channels.sandbox.state import FakeState
from tests.channels.conftest import ManualClock


@dataclass(frozen=True)
class Case:
    kind: ChannelKind
    fake: str
    address: Callable[[Sandbox], str]
    transient_status: int = 503
    # makes the next send fail permanently
    permanent: Callable[[Sandbox, str], None] = lambda sb, address: None
    # the fake keeps one copy of a retried message (the protocol has an idempotency key)
    deduplicates: bool = True
    rate_limit: bool = True


def _reject(fake: str) -> Callable[[Sandbox, str], None]:
    return lambda sb, address: sb.states[fake].reject(address)


def _script(fake: str, status: int) -> Callable[[Sandbox, str], None]:
    return lambda sb, address: sb.states[fake].fail_next(status=status)


CASES = [
    Case(
        ChannelKind.EMAIL,
        "smtp",
        lambda sb: "maire@mairie-exemple.fr",
        transient_status=451,
        permanent=_reject("smtp"),
        deduplicates=False,  # SMTP has no idempotency; the Message-ID is stable instead
        rate_limit=False,
    ),
    Case(
        ChannelKind.TELEGRAM,
        "telegram",
        lambda sb: "-1001234567890",
        transient_status=502,
        permanent=_reject("telegram"),
        deduplicates=False,  # the Bot API has no idempotency key
    ),
    Case(ChannelKind.X, "x", lambda sb: "public", permanent=_script("x", 403)),
    Case(ChannelKind.MASTODON, "mastodon", lambda sb: "public", permanent=_script("mastodon", 422)),
    Case(
        ChannelKind.MATRIX,
        "matrix",
        lambda sb: "!cellule:sandbox.local",
        permanent=_reject("matrix"),
    ),
    Case(ChannelKind.SMS, "sms", lambda sb: "+33612345678", permanent=_reject("sms")),
    Case(
        ChannelKind.WEBHOOK,
        "webhook",
        lambda sb: sb.webhook_url("site"),
        permanent=_script("webhook", 410),
    ),
]


@pytest.fixture(params=CASES, ids=[case.kind.value for case in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def channel(sandbox: Sandbox, case: Case) -> AsyncIterator[Channel]:
    built = registry.build_channel(case.kind, sandbox.config())
    assert built is not None
    yield built
    await built.aclose()


def _message(key: str = "bulletin-1/delivery-1", text: str = "Crue de la Somme") -> Message:
    return Message(
        subject="Crue de la Somme : évacuation",
        text=f"{text} — évacuez la rue basse.",
        html="<p>Crue</p>",
        idempotency_key=key,
        audience="officials",
    )


def _state(sandbox: Sandbox, case: Case) -> FakeState:
    return sandbox.states[case.fake]


async def test_a_message_sent_reaches_the_fake_with_its_text(
    sandbox: Sandbox, case: Case, channel: Channel
) -> None:
    recipient = Recipient(kind=case.kind, address=case.address(sandbox))
    receipt = await channel.send(_message(), recipient)
    received = _state(sandbox, case).received
    assert len(received) == 1
    assert "évacuez la rue basse" in received[0].text
    assert receipt.provider_id
    assert channel.kind is case.kind


async def test_a_transient_failure_raises_transient_then_the_retry_succeeds(
    sandbox: Sandbox, case: Case, channel: Channel
) -> None:
    recipient = Recipient(kind=case.kind, address=case.address(sandbox))
    _state(sandbox, case).fail_next(status=case.transient_status)
    with pytest.raises(TransientChannelError):
        await channel.send(_message(), recipient)
    await channel.send(_message(), recipient)
    assert len(_state(sandbox, case).received) == 1


async def test_a_dropped_connection_is_transient(
    sandbox: Sandbox, case: Case, channel: Channel
) -> None:
    recipient = Recipient(kind=case.kind, address=case.address(sandbox))
    _state(sandbox, case).fail_next(drop=True)
    with pytest.raises(TransientChannelError):
        await channel.send(_message(), recipient)
    await channel.send(_message(), recipient)
    assert len(_state(sandbox, case).received) == 1


async def test_a_permanent_failure_raises_permanent_and_records_nothing(
    sandbox: Sandbox, case: Case, channel: Channel
) -> None:
    address = case.address(sandbox)
    recipient = Recipient(kind=case.kind, address=address)
    case.permanent(sandbox, address)
    with pytest.raises(PermanentChannelError):
        await channel.send(_message(), recipient)
    assert _state(sandbox, case).received == []


async def test_a_429_becomes_transient_with_the_providers_delay(
    sandbox: Sandbox, case: Case, channel: Channel
) -> None:
    if not case.rate_limit:
        pytest.skip("SMTP has no 429; 4xx answers are covered by the transient test")
    recipient = Recipient(kind=case.kind, address=case.address(sandbox))
    _state(sandbox, case).fail_next(status=429, retry_after=3)
    with pytest.raises(TransientChannelError) as caught:
        await channel.send(_message(), recipient)
    assert caught.value.retry_after is not None
    assert 1.0 <= caught.value.retry_after <= 5.0


async def test_a_retried_delivery_carries_the_same_provider_key(
    sandbox: Sandbox, case: Case, channel: Channel, clock: ManualClock
) -> None:
    recipient = Recipient(kind=case.kind, address=case.address(sandbox))
    first = await channel.send(_message(key="b-7/d-3"), recipient)
    clock.advance(2)
    second = await channel.send(_message(key="b-7/d-3"), recipient)
    received = _state(sandbox, case).received
    if case.deduplicates:
        assert len(received) == 1
        assert first.provider_id == second.provider_id or second.duplicate
    else:
        assert len(received) == 2
        if case.kind is ChannelKind.EMAIL:
            assert received[0].key == received[1].key == first.provider_id


async def test_two_deliveries_get_two_provider_keys(
    sandbox: Sandbox, case: Case, channel: Channel, clock: ManualClock
) -> None:
    recipient = Recipient(kind=case.kind, address=case.address(sandbox))
    await channel.send(_message(key="b-7/d-3", text="Premier"), recipient)
    clock.advance(2)
    await channel.send(_message(key="b-7/d-4", text="Second"), recipient)
    received = _state(sandbox, case).received
    assert len(received) == 2
    if case.deduplicates or case.kind is ChannelKind.EMAIL:
        assert received[0].key != received[1].key


async def test_check_reports_a_healthy_sandbox_channel(channel: Channel) -> None:
    health = await channel.check()
    assert health.ok, health.detail
    assert health.sandbox
