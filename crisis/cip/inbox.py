"""The CIP's mailbox: which e-mail is for the CIP, which crisis it goes to, what it says.

Served by Tocsin's own SMTP endpoint (`crisis.app.cip_inbox`); this module knows no SMTP.
- Only the configured address is accepted (`cip@…`), with a plus tag (`cip+12@…`) naming the
  crisis whose CIP it is for; anything else is refused (`not_the_cip_address`).
- Routing: the plus tag, else a `[CIP-12]` token in the subject (the answers carry it, so a
  reply comes back), else the CIP not closed most recently ordered, a real crisis' before an
  exercise's. No CIP ordered and not closed: refused (`no_cip_open`), the sender's server
  bounces the mail with the reason, nothing is kept.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import parseaddr

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.cell import crises
from crisis.cip import record
from crisis.cip.requests import BODY_MAX, Incoming
from crisis.errors import Conflict, InvalidInput

SUBJECT_TOKEN = re.compile(r"\[CIP-(\d{1,9})\]", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")


def recipient_tag(address: str, *, cip_address: str) -> str | None:
    """The plus tag of an address for the CIP (`""` when none); `None` when it is not the CIP's."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    want_local, _, want_domain = cip_address.strip().rpartition("@")
    if not local or domain.casefold() != want_domain.casefold():
        return None
    base, plus, tag = local.partition("+")
    if base.casefold() != want_local.casefold():
        return None
    return tag if plus else ""


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset, a broken transfer encoding
        content = part.get_payload(decode=True) or b""
        content = content.decode("utf-8", "replace") if isinstance(content, bytes) else ""
    text = str(content)
    if part.get_content_type() == "text/html":
        text = _TAGS.sub(" ", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())[:BODY_MAX]


def parse(raw: bytes, *, envelope_sender: str | None) -> Incoming:
    """The request in an e-mail; 422 `sender_invalid` without a usable sender address."""
    message = BytesParser(policy=default_policy).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    name, address = parseaddr(str(message.get("From", "")))
    if "@" not in address:
        address = envelope_sender or ""
    address = address.strip()
    if "@" not in address or len(address) > 320 or any(c.isspace() for c in address):
        raise InvalidInput("sender_invalid", "Adresse de l'expéditeur absente ou illisible.")
    subject = " ".join(str(message.get("Subject", "")).split())
    return Incoming(
        sender=address,
        sender_name=" ".join(name.split()),
        subject=subject,
        body=_text_of(message) or "(message sans texte)",
        message_ref=str(message.get("Message-ID", "")).strip(),
    )


async def route(session: AsyncSession, *, tag: str, subject: str) -> int:
    """The crisis whose CIP receives the request; 409 `no_cip_open` / `unknown_cip_tag`."""
    token = SUBJECT_TOKEN.search(subject)
    wanted = tag or (token.group(1) if token else "")
    candidates = await record.not_closed(session)  # most recently ordered first
    if wanted:
        match = next((c for c in candidates if str(c.crisis_id) == wanted), None)
        if match is None:
            raise Conflict(
                "unknown_cip_tag", f"Aucune CIP ouverte pour l'événement n° {wanted[:9]}."
            )
        return match.crisis_id
    if not candidates:
        raise Conflict("no_cip_open", "Aucune cellule d'information du public n'est ouverte.")
    for cip in candidates:
        crisis = await crises.get(session, crisis_id=cip.crisis_id)
        if not crisis.is_exercise:
            return cip.crisis_id
    return candidates[0].crisis_id
