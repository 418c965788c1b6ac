"""A local SMTP server (aiosmtpd) that records what it receives and injects faults.

Scripted faults apply at DATA: a status (``451`` transient, ``554`` permanent), a dropped
connection, a reset one (TCP RST), or a hang (the answer held, then the message accepted).
Rejected recipients get ``550 5.1.1`` at RCPT. With ``username``/``password``,
AUTH (PLAIN/LOGIN) is required, over plain TCP since the sandbox stays on loopback.

A message with a Message-ID its recipient already received is delivered again (SMTP has no
idempotency) and noted in ``state.duplicates``: the same Message-ID lets a mail client show
it once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from channels.sandbox.state import FakeState, Received

__all__ = ["SmtpFake"]

log = logging.getLogger("tocsin.sandbox.smtp")
# aiosmtpd logs every command of every session at INFO (46 MB per 10,000 messages): the fake
# logs one line per message instead, and keeps aiosmtpd's warnings.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(slots=True, kw_only=True)
class SmtpFake:
    state: FakeState = field(default_factory=lambda: FakeState(name="smtp"))
    username: str | None = None
    password: str | None = None
    parse_bodies: bool = True
    count: int = 0
    host: str = "127.0.0.1"
    port: int = 0
    _server: asyncio.Server | None = None
    _ids: set[tuple[str, str]] = field(default_factory=set)  # (recipient, Message-ID)

    async def start(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self.host, self.port = sock.getsockname()[:2]
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, sock=sock)

    def _protocol(self) -> SMTP:
        auth = self.username is not None
        return SMTP(
            self,
            hostname="sandbox.local",
            ident="Tocsin sandbox SMTP",
            auth_required=auth,
            auth_require_tls=False,
            authenticator=self._authenticate if auth else None,
            loop=asyncio.get_running_loop(),
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.username
            and data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.state.rejected:
            return "550 5.1.1 Mailbox unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = await self.state.arrive()
        if fault is not None:
            if fault.reset and isinstance(server.transport, asyncio.Transport):
                sock = server.transport.get_extra_info("socket")
                linger = struct.pack("ii", 1, 0)  # close with a TCP RST, not a FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                server.transport.abort()
                return "421 4.4.2 Connection reset"
            if fault.drop:
                if server.transport is not None:
                    server.transport.close()
                return "421 4.4.2 Connection dropped"
            return f"{fault.status} Injected fault"
        self.count += len(envelope.rcpt_tos)
        log.info("sandbox smtp: message for %d recipient(s) accepted", len(envelope.rcpt_tos))
        if not self.parse_bodies:
            return "250 2.0.0 Accepted"
        raw = envelope.original_content or b""
        mail = BytesParser(policy=default_policy).parsebytes(raw)
        body = mail.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        for recipient in envelope.rcpt_tos:
            message = Received(
                fake="smtp",
                recipient=recipient,
                text=str(text),
                subject=str(mail.get("Subject", "")),
                key=str(mail.get("Message-ID", "")),
                meta={"from": str(envelope.mail_from)},
            )
            if message.key and (recipient, message.key) in self._ids:
                self.state.duplicate(message, absorbed=False)
            self._ids.add((recipient, message.key))
            self.state.record(message)
        return "250 2.0.0 Accepted"
