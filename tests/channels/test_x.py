"""The X adapter against the fake X API v2: threads chained by replies, retried without repeats."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from channels.base import Message, Recipient
from channels.config import XConfig
from channels.errors import PermanentChannelError, TransientChannelError
from channels.kinds import ChannelKind
from channels.sandbox import Sandbox
from channels.sandbox.page import render_page
from channels.x import XChannel

PUBLIC = Recipient(kind=ChannelKind.X, address="public")
THREAD = (
    "Crue de la Somme : la Somme déborde à Abbeville. 1/3",
    "Évacuez les rues basses, rejoignez le gymnase municipal. 2/3",
    "Prochain point à 18 h : https://tocsin.somme.gouv.fr/public/bulletins/42 3/3",
)


def _thread(key: str = "bulletin-9/delivery-1") -> Message:
    return Message(text="\n\n".join(THREAD), thread=THREAD, idempotency_key=key)


def _config(sandbox: Sandbox) -> XConfig:
    config = sandbox.config().x
    assert config is not None
    return config


@pytest.fixture
async def channel(sandbox: Sandbox) -> AsyncIterator[XChannel]:
    built = XChannel(_config(sandbox))
    yield built
    await built.aclose()


def _posts(sandbox: Sandbox) -> list[tuple[str, str, str]]:
    """(id, text, id answered) of every post the fake accepted, in order."""
    return [(m.key, m.text, m.meta.get("in_reply_to", "")) for m in sandbox.x.state.received]


async def _fails_once(channel: XChannel, sandbox: Sandbox, request: int, **fault: object) -> None:
    """Send the thread while the ``request``-th post meets ``fault``: a transient error."""
    sandbox.x.fail_request(request, **fault)  # type: ignore[arg-type]
    with pytest.raises(TransientChannelError):
        await channel.send(_thread(), PUBLIC)


def _assert_one_chained_thread(sandbox: Sandbox) -> None:
    posts = _posts(sandbox)
    assert [text for _, text, _ in posts] == list(THREAD)
    assert len({post_id for post_id, _, _ in posts}) == 3
    assert [parent for _, _, parent in posts] == ["", posts[0][0], posts[1][0]]


async def test_a_thread_is_three_posts_each_answering_the_one_before(
    sandbox: Sandbox, channel: XChannel
) -> None:
    receipt = await channel.send(_thread(), PUBLIC)
    _assert_one_chained_thread(sandbox)
    assert receipt.provider_id == _posts(sandbox)[0][0]
    assert not receipt.duplicate


async def test_a_transient_failure_on_part_two_then_success_posts_three_posts_not_more(
    sandbox: Sandbox, channel: XChannel
) -> None:
    await _fails_once(channel, sandbox, 2, status=503)
    assert len(_posts(sandbox)) == 1
    receipt = await channel.send(_thread(), PUBLIC)
    _assert_one_chained_thread(sandbox)
    assert sandbox.x.state.attempts == 4  # 1, 2 (503), then 2 and 3: part 1 never again
    assert receipt.provider_id == _posts(sandbox)[0][0]


async def test_a_dropped_connection_on_part_three_resumes_at_part_three(
    sandbox: Sandbox, channel: XChannel
) -> None:
    await _fails_once(channel, sandbox, 3, drop=True)
    await channel.send(_thread(), PUBLIC)
    _assert_one_chained_thread(sandbox)


async def test_a_429_on_part_two_carries_the_providers_delay_and_the_retry_completes_the_thread(
    sandbox: Sandbox, channel: XChannel
) -> None:
    sandbox.x.fail_request(2, status=429, retry_after=30)
    with pytest.raises(TransientChannelError) as caught:
        await channel.send(_thread(), PUBLIC)
    assert caught.value.retry_after is not None
    assert 25 <= caught.value.retry_after <= 35
    assert sandbox.x.state.rate_limited == 1
    await channel.send(_thread(), PUBLIC)
    _assert_one_chained_thread(sandbox)


async def test_a_thread_sent_again_after_success_posts_nothing_more(
    sandbox: Sandbox, channel: XChannel
) -> None:
    first = await channel.send(_thread(), PUBLIC)
    again = await channel.send(_thread(), PUBLIC)
    assert len(_posts(sandbox)) == 3
    assert again.duplicate and again.provider_id == first.provider_id


async def test_after_a_restart_a_thread_already_begun_fails_with_a_reason_instead_of_loose_posts(
    sandbox: Sandbox, channel: XChannel
) -> None:
    await _fails_once(channel, sandbox, 2, status=503)
    restarted = XChannel(_config(sandbox))  # the memo of published parts is gone
    try:
        with pytest.raises(PermanentChannelError) as caught:
            await restarted.send(_thread(), PUBLIC)
    finally:
        await restarted.aclose()
    assert len(_posts(sandbox)) == 1
    assert "partie 1/3 est déjà publiée" in caught.value.message
    assert "parties 2 à 3" in caught.value.message
    assert "sandbox-x" not in caught.value.message


async def test_a_reply_to_an_unknown_post_is_refused_as_x_refuses_it(sandbox: Sandbox) -> None:
    oauth = f'OAuth oauth_consumer_key="{_config(sandbox).consumer_key.get_secret_value()}"'
    async with httpx.AsyncClient(base_url=sandbox.urls["x"]) as client:
        response = await client.post(
            "/2/tweets",
            json={"text": "Suite du fil", "reply": {"in_reply_to_tweet_id": "42"}},
            headers={"Authorization": oauth},
        )
    assert response.status_code == 403
    assert response.json() == {
        "title": "Forbidden",
        "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
        "type": "about:blank",
        "status": 403,
    }
    assert sandbox.x.state.received == []


async def test_the_sandbox_page_shows_which_post_each_reply_answers(
    sandbox: Sandbox, channel: XChannel
) -> None:
    await channel.send(_thread(), PUBLIC)
    first, second, _ = _posts(sandbox)
    page = render_page(sandbox.states, sandbox.urls)
    assert f"Message n° {second[0]}, en réponse au message n° {first[0]}" in page
