from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from channels import registry
from channels.base import Message, Recipient
from channels.errors import ChannelMisconfigured
from channels.kinds import ChannelKind
from channels.sandbox import Sandbox
from tests.channels.conftest import ManualClock


async def _tg(client: httpx.AsyncClient, sandbox: Sandbox, chat: str) -> httpx.Response:
    url = f"{sandbox.urls['telegram']}/bot{sandbox.telegram.token}/sendMessage"
    return await client.post(url, json={"chat_id": chat, "text": "alerte"})


async def test_the_fake_bot_api_refuses_a_second_message_to_a_chat_within_a_second(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    async with httpx.AsyncClient() as client:
        assert (await _tg(client, sandbox, "7")).status_code == 200
        refused = await _tg(client, sandbox, "7")
        assert refused.status_code == 429
        assert refused.json()["parameters"]["retry_after"] == 1
        clock.advance(1.0)
        assert (await _tg(client, sandbox, "7")).status_code == 200


async def test_the_fake_bot_api_refuses_a_31st_message_within_a_second(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    async with httpx.AsyncClient() as client:
        for chat in range(30):
            assert (await _tg(client, sandbox, str(100 + chat))).status_code == 200
            clock.advance(0.03)
        assert (await _tg(client, sandbox, "999")).status_code == 429
        clock.advance(0.2)
        assert (await _tg(client, sandbox, "999")).status_code == 200
    assert sandbox.telegram.state.rate_limited == 1


async def test_received_messages_are_listed_as_json_and_on_the_french_page(
    sandbox: Sandbox,
) -> None:
    channel = registry.build_channel(ChannelKind.SMS, sandbox.config())
    assert channel is not None
    await channel.send(
        Message(text="Évacuez <vite>", idempotency_key="k"),
        Recipient(kind=ChannelKind.SMS, address="+33612345678"),
    )
    await channel.aclose()
    async with httpx.AsyncClient() as client:
        own = (await client.get(sandbox.urls["sms"] + "/_sandbox/messages")).json()
        every = (await client.get(sandbox.urls["dashboard"] + "/_sandbox/messages")).json()
        page = (await client.get(sandbox.urls["dashboard"] + "/")).text
    assert own["messages"][0]["recipient"] == "+33612345678"
    assert every["sms"][0]["text"] == "Évacuez <vite>"
    assert "Bac à sable des canaux" in page
    assert "Évacuez &lt;vite&gt;" in page


async def test_faults_can_be_injected_over_http(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        await client.post(
            sandbox.urls["mastodon"] + "/_sandbox/faults",
            json={"fail_next": [{"status": 503}], "latency": 0.0},
        )
    assert sandbox.mastodon.state.scripted[0].status == 503


def test_the_sandbox_refuses_to_listen_beyond_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(host="0.0.0.0")


async def test_smtp_with_auth_refuses_a_wrong_password_as_misconfiguration() -> None:
    async with Sandbox(smtp_username="tocsin", smtp_password="right-password-1234") as sb:
        good = registry.build_channel(ChannelKind.EMAIL, sb.config())
        assert good is not None
        await good.send(
            Message(subject="s", text="t", idempotency_key="k"),
            Recipient(kind=ChannelKind.EMAIL, address="maire@mairie.fr"),
        )
        await good.aclose()
        config = sb.config()
        assert config.smtp is not None
        wrong = config.model_copy(
            update={
                "smtp": config.smtp.model_copy(
                    update={"password": SecretStr("wrong-password-9876")}
                )
            }
        )
        bad = registry.build_channel(ChannelKind.EMAIL, wrong)
        assert bad is not None
        with pytest.raises(ChannelMisconfigured) as caught:
            await bad.send(
                Message(subject="s", text="t", idempotency_key="k2"),
                Recipient(kind=ChannelKind.EMAIL, address="maire@mairie.fr"),
            )
        assert "wrong-password-9876" not in str(caught.value)
        await bad.aclose()
        assert len(sb.smtp.state.received) == 1


async def test_the_fake_bot_api_refuses_a_21st_message_to_a_group_within_a_minute(
    sandbox: Sandbox, clock: ManualClock
) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(20):
            assert (await _tg(client, sandbox, "-1001234567890")).status_code == 200
            clock.advance(1.0)
        refused = await _tg(client, sandbox, "-1001234567890")
        assert refused.status_code == 429
        assert refused.json()["parameters"]["retry_after"] == 40
        assert (await _tg(client, sandbox, "@prefecture_somme")).status_code == 200
        clock.advance(40.0)
        assert (await _tg(client, sandbox, "-1001234567890")).status_code == 200
