from __future__ import annotations

from pydantic import SecretStr

from channels.config import ChannelsConfig, MastodonConfig, TelegramConfig
from channels.kinds import ChannelKind
from channels.registry import check_all
from channels.sandbox import Sandbox


async def test_every_sandbox_channel_checks_healthy_with_masked_credentials(
    sandbox: Sandbox,
) -> None:
    results = {h.kind: h for h in await check_all(sandbox.config())}
    for kind in (
        ChannelKind.EMAIL,
        ChannelKind.TELEGRAM,
        ChannelKind.X,
        ChannelKind.MASTODON,
        ChannelKind.MATRIX,
        ChannelKind.SMS,
        ChannelKind.WEBHOOK,
    ):
        assert results[kind].ok, (kind, results[kind].detail)
        assert results[kind].sandbox
    assert results[ChannelKind.TELEGRAM].settings["token"] == "****0001"
    assert results[ChannelKind.APPRISE].detail == "Non configuré"


async def test_wrong_credentials_fail_the_check_with_a_clear_message_and_no_secret(
    sandbox: Sandbox,
) -> None:
    secret_token = "987654321:AAwrong-token-zzzz-9999"
    sandbox_config = sandbox.config()
    assert sandbox_config.telegram is not None and sandbox_config.mastodon is not None
    config = ChannelsConfig(
        telegram=sandbox_config.telegram.model_copy(update={"token": SecretStr(secret_token)}),
        mastodon=sandbox_config.mastodon.model_copy(
            update={"access_token": SecretStr("wrong-mastodon-token-7777")}
        ),
    )
    results = {h.kind: h for h in await check_all(config)}
    telegram, mastodon = results[ChannelKind.TELEGRAM], results[ChannelKind.MASTODON]
    assert not telegram.ok and telegram.detail == "Telegram : jeton du bot refusé"
    assert not mastodon.ok and "identifiants refusés" in mastodon.detail
    everything = repr(results)
    assert secret_token not in everything and "wrong-mastodon-token-7777" not in everything
    assert telegram.settings["token"] == "****9999"


async def test_an_unreachable_service_fails_the_check_without_a_stack_trace() -> None:
    config = ChannelsConfig(
        telegram=TelegramConfig(token=SecretStr("1:abc"), base_url="http://127.0.0.1:9/bot"),
        mastodon=MastodonConfig(base_url="http://127.0.0.1:9", access_token=SecretStr("t")),
    )
    results = {h.kind: h for h in await check_all(config, timeout=5)}
    assert not results[ChannelKind.TELEGRAM].ok
    assert "Telegram : réseau" in results[ChannelKind.TELEGRAM].detail
    assert "injoignable" in results[ChannelKind.MASTODON].detail
