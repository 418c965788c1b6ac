"""Written requests to the CIP: sent by real SMTP (aiosmtplib) to Tocsin's endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage

import aiosmtplib

from crisis.app import cip_inbox
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.cip import requests
from crisis.cip.requests import Incoming, RequestRules
from tests.support import FrozenClock

CIP_ADDRESS = "cip@somme.gouv.test"
CITIZEN = "jeanne.riveraine@exemple.test"


def mail(
    *, to: str = CIP_ADDRESS, subject: str = "Route de Pont-Rémy", body: str = "", sender: str = ""
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Jeanne Riveraine <{sender or CITIZEN}>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body or "La route de Pont-Rémy est-elle rouverte ? Merci.")
    return message


@asynccontextmanager
async def inbox(settings: Settings, db: Database, clock: FrozenClock) -> AsyncIterator[int]:
    """Tocsin's SMTP endpoint on an ephemeral loopback port."""
    here = settings.model_copy(update={"cip_address": CIP_ADDRESS, "cip_mail_max_bytes": 20_000})
    async with cip_inbox.serving(here, db, clock, port=0) as port:
        assert port is not None
        yield port


async def send(port: int, message: EmailMessage) -> None:
    await aiosmtplib.send(message, hostname="127.0.0.1", port=port, timeout=10)


async def received(db: Database, clock: FrozenClock, *, crisis_id: int, subject: str = "") -> int:
    """A written request logged as the inbox logs it (without SMTP); its id."""
    async with db.transaction() as session:
        request = await requests.receive(
            session,
            crisis_id=crisis_id,
            incoming=Incoming(
                sender=CITIZEN,
                sender_name="Jeanne Riveraine",
                subject=subject or "Route de Pont-Rémy",
                body="La route de Pont-Rémy est-elle rouverte ?",
            ),
            rules=RequestRules(),
            now=clock.now(),
        )
    assert request.id is not None
    return request.id
