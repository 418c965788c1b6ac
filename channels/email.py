"""E-mail over SMTP with aiosmtplib: a small pool of persistent connections.

The ``Message-ID`` is derived from the idempotency key, so a message sent twice after a
crash is recognisable as one. SMTP 4xx answers are transient, 5xx permanent; in a
multi-recipient send, refused recipients are reported in ``Receipt.refused``.
"""

from __future__ import annotations

import asyncio
import binascii
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr

import aiosmtplib

from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import SmtpConfig
from channels.errors import (
    ChannelError,
    ChannelMisconfigured,
    InvalidRecipient,
    PermanentChannelError,
    TransientChannelError,
)
from channels.kinds import ChannelKind
from channels.masking import mask, redact

__all__ = ["EmailChannel", "map_error", "message_id"]

_KIND = ChannelKind.EMAIL


def message_id(*, idempotency_key: str, domain: str) -> str:
    return f"<{provider_key(idempotency_key)}@{domain}>"


def map_error(exc: aiosmtplib.SMTPException | OSError, *, secrets: list[str]) -> ChannelError:
    """The one place where aiosmtplib and socket errors become channel errors."""
    reason = redact(f"{type(exc).__name__}: {exc}", secrets)[:300]
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return ChannelMisconfigured(f"SMTP : authentification refusée ({reason})", kind=_KIND)
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        who = ", ".join(r.recipient for r in exc.recipients)
        if codes and all(500 <= c < 600 for c in codes):
            return InvalidRecipient(
                f"SMTP : destinataire refusé {who} ({reason})", kind=_KIND, recipient=who
            )
        return TransientChannelError(f"SMTP : destinataire différé {who} ({reason})", kind=_KIND)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 400 <= exc.code < 500:
            return TransientChannelError(f"SMTP : refus temporaire ({reason})", kind=_KIND)
        return PermanentChannelError(f"SMTP : refus définitif ({reason})", kind=_KIND)
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return ChannelMisconfigured(f"SMTP : fonction non prise en charge ({reason})", kind=_KIND)
    if isinstance(exc, ssl.SSLError):
        return ChannelMisconfigured(f"SMTP : échec TLS ({reason})", kind=_KIND)
    return TransientChannelError(f"SMTP : serveur injoignable ({reason})", kind=_KIND)


class EmailChannel:
    def __init__(self, config: SmtpConfig, *, name: str = "email") -> None:
        self._config = config
        self._name = name
        self._from = formataddr((config.sender_name, config.sender), "utf-8")
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP | None] = asyncio.LifoQueue()
        for _ in range(config.pool_size):
            self._idle.put_nowait(None)  # a slot; connected on first use

    @property
    def kind(self) -> ChannelKind:
        return _KIND

    @property
    def name(self) -> str:
        return self._name

    def _secrets(self) -> list[str]:
        return [self._config.password.get_secret_value()] if self._config.password else []

    def build(self, message: Message, recipients: Sequence[Recipient]) -> bytes:
        """The RFC 5322 message: text and, when given, HTML as ``multipart/alternative``.

        Built directly as bytes (quoted-printable UTF-8 parts, RFC 2047 headers): the
        ``email`` package's generator costs more than the SMTP exchange itself.
        """
        config = self._config
        key = provider_key(message.idempotency_key)
        headers = [
            "From: " + self._from,
            "To: "
            + ", ".join(formataddr((r.display_name, r.address), "utf-8") for r in recipients),
            "Subject: " + _header(message.subject),
            "Date: " + format_datetime(datetime.now(UTC)),
            f"Message-ID: <{key}@{config.message_id_domain}>",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "X-Tocsin-Audience: " + _header(message.audience),
        ]
        if message.exercise:
            headers.append("X-Tocsin-Exercise: yes")
        text = _part("plain", message.text)
        if message.html is None:
            head = "\r\n".join(headers).encode("ascii")
            return head + b"\r\n" + text
        boundary = f"=_tocsin_{key}"
        headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        head = "\r\n".join(headers).encode("ascii")
        mark = b"--" + boundary.encode("ascii")
        return b"".join(
            (
                head,
                b"\r\n\r\n",
                mark,
                b"\r\n",
                text,
                b"\r\n",
                mark,
                b"\r\n",
                _part("html", message.html),
                b"\r\n",
                mark,
                b"--\r\n",
            )
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.security == "tls",
            start_tls=config.security == "starttls",
            validate_certs=config.validate_certs,
            timeout=config.timeout,
        )
        await client.connect()
        if config.username and config.password:
            await client.login(config.username, config.password.get_secret_value())
        return client

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        return await self.send_many(message, [recipient])

    async def send_many(self, message: Message, recipients: Sequence[Recipient]) -> Receipt:
        """One SMTP transaction to several recipients; refusals of some are data."""
        mail = self.build(message, recipients)
        addresses = [r.address for r in recipients]
        mail_id = message_id(
            idempotency_key=message.idempotency_key, domain=self._config.message_id_domain
        )
        client = await self._idle.get()
        try:
            for attempt in (1, 2):
                reused = client is not None
                try:
                    if client is None:
                        client = await self._connect()
                    answers, status = await client.sendmail(self._config.sender, addresses, mail)
                    break
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
                    await _discard(client)
                    client = None
                    if not reused or attempt == 2:  # a stale pooled connection gets one retry
                        raise map_error(exc, secrets=self._secrets()) from None
                except (aiosmtplib.SMTPException, OSError) as exc:
                    if isinstance(exc, aiosmtplib.SMTPTimeoutError | OSError):
                        await _discard(client)
                        client = None
                    raise map_error(exc, secrets=self._secrets()) from None
        finally:
            self._idle.put_nowait(client)
        refused = {
            address: f"{answer.code} {answer.message}"
            for address, answer in answers.items()
            if not 200 <= answer.code < 300
        }
        return Receipt(
            provider_id=mail_id,
            raw_status=status,
            accepted_at=datetime.now(UTC),
            refused=refused,
        )

    async def check(self) -> ChannelHealth:
        config = self._config
        settings = {
            "host": config.host,
            "port": str(config.port),
            "security": config.security,
            "username": config.username or "",
            "password": mask(config.password.get_secret_value()) if config.password else "",
            "sender": config.sender,
        }
        try:
            client = await self._connect()
            await client.noop()
            await client.quit()
        except (aiosmtplib.SMTPException, OSError) as exc:
            detail = map_error(exc, secrets=self._secrets()).message
            return self._health(ok=False, detail=detail, settings=settings)
        return self._health(
            ok=True, detail=f"Relais {config.host}:{config.port} joignable", settings=settings
        )

    def _health(self, *, ok: bool, detail: str, settings: dict[str, str]) -> ChannelHealth:
        return ChannelHealth(
            kind=_KIND,
            name=self._name,
            ok=ok,
            detail=detail,
            sandbox=self._config.sandbox,
            settings=settings,
        )

    async def aclose(self) -> None:
        clients = [self._idle.get_nowait() for _ in range(self._idle.qsize())]
        for client in clients:
            await _discard(client)
            self._idle.put_nowait(None)


def _header(value: str) -> str:
    if value.isascii() and "\n" not in value and "\r" not in value:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _part(subtype: str, content: str) -> bytes:
    data = content.replace("\r\n", "\n").encode("utf-8")
    body = binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")
    return (
        f"Content-Type: text/{subtype}; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode("ascii") + body


async def _discard(client: aiosmtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
