"""Tocsin's SMTP endpoint for the CIP's written requests (aiosmtpd, in the worker's loop).

`TOCSIN_CIP_SMTP_PORT` turns it on (`TOCSIN_CIP_SMTP_HOST`, loopback by default: the
prefecture's mail relay forwards the CIP's address to it). It accepts mail for
`TOCSIN_CIP_ADDRESS` only (550 5.1.1 at RCPT otherwise), up to `TOCSIN_CIP_MAIL_MAX_BYTES`
(552 beyond, aiosmtpd's SIZE), and refuses at DATA what `crisis.cip.inbox` refuses (550 5.7.1
with the reason, so the sender's server bounces it). A database failure answers 451: the
sender's server tries again. Refusals are logged, not journaled: anyone can send mail, and the
journal is the crisis' record, not a spam counter.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from crisis.app.clock import Clock
from crisis.app.db import Database
from crisis.app.policies import cip_request_rules
from crisis.app.settings import Settings
from crisis.cip import inbox, requests
from crisis.cip.requests import RequestRules
from crisis.errors import DomainError

log = logging.getLogger("tocsin.cip.inbox")
logging.getLogger("mail.log").setLevel(logging.WARNING)


def _ascii(text: str) -> str:
    """SMTP replies are ASCII: « Aucune cellule … » becomes « Aucune cellule ... »."""
    plain = unicodedata.normalize("NFKD", text.replace("…", "...").replace("«", '"'))
    return plain.replace("»", '"').encode("ascii", "ignore").decode().replace("\u00a0", " ")


@dataclass(slots=True, kw_only=True)
class CipInbox:
    """The aiosmtpd handler: one written request per accepted message."""

    db: Database
    clock: Clock
    address: str
    rules: RequestRules

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if inbox.recipient_tag(address, cip_address=self.address) is None:
            log.info("cip inbox: mail for another address refused")
            return "550 5.1.1 Adresse inconnue : seule l'adresse de la CIP est servie ici"
        if envelope.rcpt_tos:
            return "452 4.5.3 Un seul destinataire par message"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        tag = inbox.recipient_tag(envelope.rcpt_tos[0], cip_address=self.address) or ""
        raw = envelope.original_content or b""
        try:
            incoming = inbox.parse(raw, envelope_sender=envelope.mail_from)
            async with self.db.transaction() as db_session:
                crisis_id = await inbox.route(db_session, tag=tag, subject=incoming.subject)
                request = await requests.receive(
                    db_session,
                    crisis_id=crisis_id,
                    incoming=incoming,
                    rules=self.rules,
                    now=self.clock.now(),
                )
        except DomainError as refused:
            log.info("cip inbox: mail refused (%s)", refused.code)
            return f"550 5.7.1 {_ascii(refused.message)}"
        except (SQLAlchemyError, DBAPIError, OSError):
            log.exception("cip inbox: request not saved, the sender will try again")
            return "451 4.3.0 Enregistrement impossible pour l'instant, reessayez"
        log.info("cip inbox: request %s received for crisis %s", request.id, crisis_id)
        return f"250 2.0.0 Demande enregistree (n. {request.id})"


def protocol_factory(handler: CipInbox, *, max_bytes: int) -> SMTP:
    return SMTP(
        handler,
        hostname="tocsin-cip",
        ident="Tocsin CIP",
        data_size_limit=max_bytes,
        decode_data=False,
        loop=asyncio.get_running_loop(),
    )


@asynccontextmanager
async def serving(
    settings: Settings, db: Database, clock: Clock, *, port: int | None = None
) -> AsyncIterator[int | None]:
    """Serve the CIP's inbox while inside; yields the port (None when it is off)."""
    port = settings.cip_smtp_port if port is None else port
    if port is None:
        yield None
        return
    handler = CipInbox(
        db=db, clock=clock, address=settings.cip_address, rules=cip_request_rules(settings)
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.cip_smtp_host, port))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: protocol_factory(handler, max_bytes=settings.cip_mail_max_bytes), sock=sock
    )
    bound = sock.getsockname()[1]
    log.info("cip inbox: SMTP on %s:%s for %s", settings.cip_smtp_host, bound, settings.cip_address)
    try:
        yield bound
    finally:
        server.close()
        await server.wait_closed()
