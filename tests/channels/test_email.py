"""The e-mail adapter: bytes built once per rendering, one SMTP transaction per message."""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import re
import time
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message as MimeMessage

import pytest
from aiosmtplib.protocol import normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from channels.base import Message, Recipient
from channels.config import SmtpConfig
from channels.email import EmailChannel, message_id
from channels.email_mime import encode_part
from channels.errors import ChannelMisconfigured, InvalidRecipient, TransientChannelError
from channels.kinds import ChannelKind
from channels.sandbox import Sandbox

TEXT = "Crue de la Somme : évacuation préventive de la rue basse à 18 h.\n" * 3
LINK = "Confirmez la réception : {link}\n"


def _channel(**options: object) -> EmailChannel:
    return EmailChannel(SmtpConfig(host="127.0.0.1", port=25, security="none", **options))


def _message(text: str = TEXT, *, key: str = "b-1/d-1", exercise: bool = False) -> Message:
    subject = "Crue de la Somme : évacuation"
    return Message(
        subject=f"EXERCICE — {subject}" if exercise else subject,
        text=text,
        html=f"<p>{text}</p>",
        idempotency_key=key,
        audience="officials",
        exercise=exercise,
    )


def _to(address: str, name: str = "") -> Recipient:
    return Recipient(kind=ChannelKind.EMAIL, address=address, display_name=name)


def _parts(raw: bytes) -> dict[str, str]:
    mail = message_from_bytes(raw)
    parts: dict[str, str] = {}
    for part in mail.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            text = payload.decode(part.get_content_charset() or "")
            parts[part.get_content_type()] = text.replace("\r\n", "\n")
    return parts


def _header(mail: MimeMessage, name: str) -> str:
    return str(make_header(decode_header(mail[name])))


def test_two_recipients_of_one_rendering_get_one_body_with_their_own_to_and_message_id() -> None:
    channel = _channel(message_id_domain="pref.test")
    first = channel.build(_message(key="b-1/d-1"), [_to("maire@mairie-a.fr", "Maire n° 1")])
    second = channel.build(_message(key="b-1/d-2"), [_to("maire@mairie-b.fr", "Élue")])

    one, two = message_from_bytes(first), message_from_bytes(second)
    assert _header(one, "To") == "Maire n° 1 <maire@mairie-a.fr>"
    assert _header(two, "To") == "Élue <maire@mairie-b.fr>"
    assert one["Message-ID"] == message_id(idempotency_key="b-1/d-1", domain="pref.test")
    assert two["Message-ID"] == message_id(idempotency_key="b-1/d-2", domain="pref.test")
    assert first.split(b"\r\nSubject: ", 1)[1] == second.split(b"\r\nSubject: ", 1)[1]
    assert _parts(first) == _parts(second) == {"text/plain": TEXT, "text/html": f"<p>{TEXT}</p>"}


def test_each_recipient_of_a_confirmation_bulletin_gets_their_own_link() -> None:
    channel = _channel()
    channel.build(_message(), [_to("cache@mairie-a.fr")])  # the shared lines are cached
    texts = {
        who: TEXT + LINK.format(link=f"https://tocsin.test/confirmer/{who}") + TEXT
        for who in ("jeton-a", "jeton-b")
    }
    raws = {
        who: channel.build(_message(text, key=who), [_to(f"{who}@mairie-a.fr")])
        for who, text in texts.items()
    }

    for who, raw in raws.items():
        assert _parts(raw) == {"text/plain": texts[who], "text/html": f"<p>{texts[who]}</p>"}


def test_an_exercise_is_marked_in_its_utf8_subject_and_headers() -> None:
    raw = _channel().build(_message(exercise=True), [_to("exercice@mairie-a.fr")])

    mail = message_from_bytes(raw)
    assert _header(mail, "Subject") == "EXERCICE — Crue de la Somme : évacuation"
    assert mail["X-Tocsin-Exercise"] == "yes"
    assert mail.get_content_type() == "multipart/alternative"
    assert raw.isascii()


def test_a_text_only_message_has_a_single_plain_part() -> None:
    message = Message(subject="Alerte", text=TEXT, idempotency_key="k", audience="staff")

    raw = _channel().build(message, [_to("astreinte@prefecture.fr")])

    mail = message_from_bytes(raw)
    assert not mail.is_multipart()
    assert _parts(raw) == {"text/plain": TEXT}
    assert mail["X-Tocsin-Exercise"] is None


_TEXTS = st.text(st.sampled_from("ab =.\t\r\n\x0céà—\u00a0\u2028xyz"), max_size=400)


@given(text=_TEXTS)
def test_a_part_encoded_line_by_line_is_the_part_encoded_at_once(text: str) -> None:
    whole = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    expected = binascii.b2a_qp(whole, istext=True).replace(b"\n", b"\r\n")
    cache: dict[str, bytes] = {}

    assert encode_part(text, cache=cache) == expected
    assert encode_part(text, cache=cache) == expected  # and again, from the cache


@given(text=_TEXTS, subject=st.text(min_size=1, max_size=120))
def test_a_built_message_has_crlf_line_ends_only_so_its_size_is_exact(
    text: str, subject: str
) -> None:
    message = Message(subject=subject, text=text, html=text, idempotency_key="k")

    raw = _channel().build(message, [_to("maire@mairie-a.fr")])

    assert normalize_message_line_endings(raw) == raw


@pytest.fixture
def smtp(sandbox: Sandbox) -> SmtpConfig:
    """The sandbox relay, through one pooled connection."""
    config = sandbox.config().smtp
    assert config is not None
    return config.model_copy(update={"pool_size": 1})


async def test_a_refused_recipient_is_data_and_the_others_get_the_message(
    sandbox: Sandbox, smtp: SmtpConfig
) -> None:
    channel = EmailChannel(smtp)
    sandbox.smtp.state.reject("inconnu@mairie-a.fr")

    receipt = await channel.send_many(
        _message(), [_to("maire@mairie-a.fr"), _to("inconnu@mairie-a.fr")]
    )
    await channel.aclose()

    assert receipt.refused == {"inconnu@mairie-a.fr": "550 5.1.1 Mailbox unknown"}
    assert [r.recipient for r in sandbox.smtp.state.received] == ["maire@mairie-a.fr"]


async def test_a_message_every_recipient_refuses_is_a_permanent_error_and_the_next_goes_out(
    sandbox: Sandbox, smtp: SmtpConfig
) -> None:
    channel = EmailChannel(smtp)
    sandbox.smtp.state.reject("inconnu@mairie-a.fr")

    refused = re.escape("destinataire refusé inconnu@mairie-a.fr")
    with pytest.raises(InvalidRecipient, match=refused):
        await channel.send(_message(), _to("inconnu@mairie-a.fr"))
    await channel.send(_message(key="b-1/d-2"), _to("maire@mairie-a.fr"))
    await channel.aclose()

    assert [r.recipient for r in sandbox.smtp.state.received] == ["maire@mairie-a.fr"]


async def test_after_the_relay_drops_the_connection_the_next_message_goes_out_on_a_new_one(
    sandbox: Sandbox, smtp: SmtpConfig
) -> None:
    channel = EmailChannel(smtp)
    sandbox.smtp.state.fail_next(drop=True)

    with pytest.raises(TransientChannelError):
        await channel.send(_message(key="b-1/d-1"), _to("maire@mairie-a.fr"))
    receipt = await channel.send(_message(key="b-1/d-2"), _to("maire@mairie-b.fr"))
    await channel.aclose()

    assert receipt.provider_id == message_id(idempotency_key="b-1/d-2", domain="tocsin.local")
    assert [r.recipient for r in sandbox.smtp.state.received] == ["maire@mairie-b.fr"]


@pytest.mark.parametrize("sender", ["ne pas repondre@pref.fr", "ne-pas-répondre@pref.fr"])
async def test_a_sender_address_that_cannot_go_on_the_mail_line_is_a_misconfiguration(
    sandbox: Sandbox, smtp: SmtpConfig, sender: str
) -> None:
    channel = EmailChannel(smtp.model_copy(update={"sender": sender}))

    with pytest.raises(ChannelMisconfigured, match="adresse d’expéditeur invalide"):
        await channel.send(_message(), _to("maire@mairie-a.fr"))
    await channel.aclose()

    assert sandbox.smtp.state.received == []


async def test_a_send_cancelled_mid_transaction_does_not_leave_its_connection_to_the_next(
    sandbox: Sandbox, smtp: SmtpConfig
) -> None:
    channel = EmailChannel(smtp.model_copy(update={"timeout": 3.0}))
    sandbox.smtp.state.fail_next(hang=1.0)  # the relay sits on the first DATA
    first = asyncio.create_task(channel.send(_message(key="b-1/d-1"), _to("maire@mairie-a.fr")))
    await asyncio.sleep(0.3)
    first.cancel()  # a dispatch pass that failed cancels its senders
    with contextlib.suppress(asyncio.CancelledError):
        await first
    began = time.monotonic()
    receipt = await channel.send(_message(key="b-1/d-2"), _to("maire@mairie-b.fr"))
    took = time.monotonic() - began
    await channel.aclose()
    assert receipt.provider_id == message_id(idempotency_key="b-1/d-2", domain="tocsin.local")
    assert "maire@mairie-b.fr" in [r.recipient for r in sandbox.smtp.state.received]
    assert took < 1.0  # a new connection, not one owing the answer to the cancelled DATA
