"""E-mail over SMTP with aiosmtplib: a small pool of persistent connections.

The ``Message-ID`` is derived from the idempotency key, so a message sent twice after a
crash is recognisable as one. SMTP 4xx answers are transient, 5xx permanent; in a
multi-recipient send, refused recipients are reported in ``Receipt.refused``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import formataddr

import aiosmtplib
from aiosmtplib import SMTPStatus
from aiosmtplib.email import quote_address

from channels.adapter import Adapter
from channels.base import ChannelHealth, Message, Receipt, Recipient, provider_key
from channels.config import SmtpConfig
from channels.email_mime import MimeBuilder
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


def _sender(config: SmtpConfig) -> tuple[bytes, str] | None:
    """``FROM:<sender>`` for the MAIL command and the ``From`` header, checked once; None
    when the address cannot go there (a space, an angle bracket, a letter outside ASCII)."""
    try:
        mail_from = b"FROM:" + quote_address(config.sender).encode("ascii")
        return mail_from, formataddr((config.sender_name, config.sender), "utf-8")
    except ValueError:  # UnicodeEncodeError included
        return None


class EmailChannel(Adapter[SmtpConfig]):
    KIND = _KIND

    def __init__(self, config: SmtpConfig, *, name: str = "email") -> None:
        super().__init__(config, name=name)
        sender = _sender(config)
        self._mail_from = sender[0] if sender else None
        self._mime = MimeBuilder(
            from_header=sender[1] if sender else "", message_id_domain=config.message_id_domain
        )
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP | None] = asyncio.LifoQueue()
        for _ in range(config.pool_size):
            self._idle.put_nowait(None)  # a slot; connected on first use

    def _secrets(self) -> list[str]:
        return [self._config.password.get_secret_value()] if self._config.password else []

    def build(self, message: Message, recipients: Sequence[Recipient]) -> bytes:
        """The RFC 5322 message: text and, when given, HTML as ``multipart/alternative``."""
        return self._mime.build(message, recipients, key=provider_key(message.idempotency_key))

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
        if client.is_ehlo_or_helo_needed:  # what ``sendmail`` would do before its first MAIL
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        return client

    async def send(self, message: Message, recipient: Recipient) -> Receipt:
        return await self.send_many(message, [recipient])

    async def send_many(self, message: Message, recipients: Sequence[Recipient]) -> Receipt:
        """One SMTP transaction to several recipients; refusals of some are data."""
        if self._mail_from is None:
            raise ChannelMisconfigured(
                f"SMTP : adresse d’expéditeur invalide « {self._config.sender} »", kind=_KIND
            )
        if any(r.kind is not _KIND for r in recipients):
            raise InvalidRecipient(
                "SMTP : destinataire qui n’est pas une adresse électronique",
                kind=_KIND,
                recipient=", ".join(str(r) for r in recipients if r.kind is not _KIND),
            )
        key = provider_key(message.idempotency_key)
        mail = self._mime.build(message, recipients, key=key)
        addresses = [r.address for r in recipients]
        client = await self._idle.get()
        try:
            for attempt in (1, 2):
                reused = client is not None
                try:
                    if client is None:
                        client = await self._connect()
                    answers, status = await _transaction(client, self._mail_from, addresses, mail)
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
        except asyncio.CancelledError:
            # Cancelled mid-command (a pass that failed, a stop): the connection may owe an
            # answer, and the next send on it would wait out the timeout; it is not reused.
            if client is not None:
                client.close()
                client = None
            raise
        finally:
            self._idle.put_nowait(client)
        refused = {
            address: f"{answer.code} {answer.message}"
            for address, answer in answers.items()
            if not 200 <= answer.code < 300
        }
        return Receipt(
            provider_id=f"<{key}@{self._config.message_id_domain}>",
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

    async def aclose(self) -> None:
        clients = [self._idle.get_nowait() for _ in range(self._idle.qsize())]
        for client in clients:
            await _discard(client)
            self._idle.put_nowait(None)


async def _transaction(
    client: aiosmtplib.SMTP, mail_from: bytes, addresses: list[str], mail: bytes
) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
    """``SMTP.sendmail`` without parsing the addresses again for every message.

    ``Recipient`` has validated each address (no space, quote or angle bracket can reach the
    command line) and the sender is checked once, when the channel is built. ``mail`` has
    CRLF line ends only, so its length is the ``SIZE`` the server is told. Returns the
    answer to every recipient and the server's answer to the message.
    """
    options = [b"SIZE=%d" % len(mail)] if client.supports_extension("size") else []
    try:
        response = await client.execute_command(b"MAIL", mail_from, *options)
        if response.code != SMTPStatus.completed:
            sender = mail_from.removeprefix(b"FROM:").decode()
            raise aiosmtplib.SMTPSenderRefused(response.code, response.message, sender)
        answers = {}
        refusals = []
        for address in addresses:
            answer = await client.execute_command(b"RCPT", b"TO:<" + address.encode() + b">")
            answers[address] = answer
            if answer.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
                refusals.append(
                    aiosmtplib.SMTPRecipientRefused(answer.code, answer.message, address)
                )
        if len(refusals) == len(addresses):
            raise aiosmtplib.SMTPRecipientsRefused(refusals)
        response = await client.data(mail)
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused):
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.rset()  # leave a clean envelope for the next message
        raise
    return answers, response.message


async def _discard(client: aiosmtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
