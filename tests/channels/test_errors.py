"""Error mapping in one place per adapter, and secrets kept out of every message."""

from __future__ import annotations

import datetime as dt

import aiosmtplib
import httpx
import pytest
from pydantic import SecretStr
from telegram import error as tg_error

from channels import email, telegram
from channels._http import map_error as map_http_error
from channels.config import SmtpConfig, TelegramConfig
from channels.errors import (
    ChannelMisconfigured,
    InvalidRecipient,
    PermanentChannelError,
    TransientChannelError,
)
from channels.kinds import ChannelKind
from channels.masking import mask, redact

TOKEN = "123456789:AAsecret-token-value-abcd"


def test_a_long_secret_is_masked_to_its_last_four_characters() -> None:
    assert mask("sk-live-0123456789abcd") == "****abcd"
    assert mask("short") == "****"
    assert mask("") == "****"


def test_redact_replaces_every_occurrence() -> None:
    assert redact(f"url /bot{TOKEN}/send and {TOKEN}", [TOKEN]) == (
        "url /bot****abcd/send and ****abcd"
    )


def test_configs_never_show_credentials_in_their_repr() -> None:
    config = TelegramConfig(token=SecretStr(TOKEN))
    smtp = SmtpConfig(username="u", password=SecretStr("hunter2-hunter2"))
    assert TOKEN not in repr(config) and TOKEN not in str(config)
    assert "hunter2" not in repr(smtp)


def test_telegram_bad_request_is_permanent_although_it_subclasses_network_error() -> None:
    error = telegram.map_error(tg_error.BadRequest("Message is too long"), token=TOKEN)
    assert type(error) is PermanentChannelError


def test_telegram_chat_not_found_names_the_recipient() -> None:
    error = telegram.map_error(
        tg_error.BadRequest("Chat not found"), token=TOKEN, recipient="@mairie"
    )
    assert isinstance(error, InvalidRecipient) and error.recipient == "@mairie"


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (tg_error.RetryAfter(dt.timedelta(seconds=7)), TransientChannelError),
        (tg_error.TimedOut(), TransientChannelError),
        (tg_error.NetworkError("boom"), TransientChannelError),
        (tg_error.Forbidden("bot was blocked by the user"), InvalidRecipient),
        (tg_error.InvalidToken(), ChannelMisconfigured),
    ],
)
def test_telegram_errors_map_to_the_taxonomy(
    raised: tg_error.TelegramError, expected: type
) -> None:
    assert type(telegram.map_error(raised, token=TOKEN)) is expected


def test_telegram_retry_after_carries_its_delay() -> None:
    error = telegram.map_error(tg_error.RetryAfter(dt.timedelta(seconds=7)), token=TOKEN)
    assert isinstance(error, TransientChannelError) and error.retry_after == 7


def test_a_telegram_error_quoting_the_token_is_redacted() -> None:
    error = telegram.map_error(tg_error.NetworkError(f"GET /bot{TOKEN}/x failed"), token=TOKEN)
    assert TOKEN not in str(error) and "****abcd" in str(error)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (aiosmtplib.SMTPDataError(451, "try later"), TransientChannelError),
        (aiosmtplib.SMTPDataError(554, "rejected"), PermanentChannelError),
        (aiosmtplib.SMTPAuthenticationError(535, "bad"), ChannelMisconfigured),
        (aiosmtplib.SMTPServerDisconnected("gone"), TransientChannelError),
        (ConnectionRefusedError(111, "refused"), TransientChannelError),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(550, "unknown", "x@y.fr")]
            ),
            InvalidRecipient,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(450, "greylisted", "x@y.fr")]
            ),
            TransientChannelError,
        ),
    ],
)
def test_smtp_4xx_is_transient_and_5xx_permanent(raised: Exception, expected: type) -> None:
    assert type(email.map_error(raised, secrets=[])) is expected  # type: ignore[arg-type]


def test_http_statuses_map_to_the_taxonomy() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/x")

    def status(code: int, **headers: str) -> object:
        response = httpx.Response(code, headers=headers, request=request, text="nope")
        return map_http_error(response, kind=ChannelKind.SMS, secrets=[])

    limited = status(429, **{"Retry-After": "12"})
    assert isinstance(limited, TransientChannelError) and limited.retry_after == 12
    assert type(status(503)) is TransientChannelError
    assert type(status(401)) is ChannelMisconfigured
    assert type(status(422)) is PermanentChannelError


def test_an_http_error_body_quoting_a_secret_is_redacted() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/x")
    response = httpx.Response(400, request=request, text=f"bad key {TOKEN}")
    error = map_http_error(response, kind=ChannelKind.SMS, secrets=[TOKEN])
    assert TOKEN not in str(error)


def test_the_message_id_is_stable_for_one_idempotency_key() -> None:
    first = email.message_id(idempotency_key="b-1/d-2", domain="tocsin.local")
    assert first == email.message_id(idempotency_key="b-1/d-2", domain="tocsin.local")
    assert first != email.message_id(idempotency_key="b-1/d-3", domain="tocsin.local")
    assert first.startswith("<") and first.endswith("@tocsin.local>") and len(first) == 47
