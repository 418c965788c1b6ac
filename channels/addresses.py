"""Address validation per channel; a malformed address is refused with the recipient named."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers

from channels.errors import InvalidRecipient
from channels.kinds import ChannelKind

__all__ = ["normalize_address"]

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_TELEGRAM_CHAT_ID = re.compile(r"^-?[1-9][0-9]{0,15}$")
_TELEGRAM_CHANNEL = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")
_MATRIX_ID = re.compile(r"^[@!][^:\s]+:[A-Za-z0-9.-]+(?::[0-9]{1,5})?$")
_HANDLE = re.compile(r"^@?[A-Za-z0-9_]{1,30}(?:@[A-Za-z0-9.-]+)?$")

_PUBLIC = "public"

# Mobile numbers ARCEP reserves for fiction (06 39 98 xx xx): never assigned to anyone, so
# demos and exercises can use them to exercise the SMS path.
FICTION_MOBILES = ("+3363998",)


def normalize_address(*, kind: ChannelKind, address: str, display_name: str = "") -> str:
    """Return the canonical form of ``address`` for ``kind`` or raise ``InvalidRecipient``."""
    value = address.strip()
    who = f"{display_name} ({value})" if display_name else repr(value)

    def refuse(reason: str) -> InvalidRecipient:
        return InvalidRecipient(
            f"Destinataire {who} invalide pour le canal {kind} : {reason}",
            kind=kind,
            recipient=display_name or value,
        )

    match kind:
        case ChannelKind.EMAIL:
            if len(value) > 254 or not _EMAIL.match(value) or ".." in value:
                raise refuse("adresse électronique mal formée")
            local, _, domain = value.rpartition("@")
            return f"{local}@{domain.lower()}"
        case ChannelKind.SMS:
            try:
                number = phonenumbers.parse(value, "FR")
            except phonenumbers.NumberParseException:
                raise refuse("numéro de téléphone illisible") from None
            e164 = str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
            if not phonenumbers.is_valid_number(number) and not e164.startswith(FICTION_MOBILES):
                raise refuse("numéro de téléphone non valide (format E.164 attendu)")
            return e164
        case ChannelKind.TELEGRAM:
            if _TELEGRAM_CHAT_ID.match(value) or _TELEGRAM_CHANNEL.match(value):
                return value
            raise refuse("identifiant de discussion (nombre) ou nom de canal (@nom) attendu")
        case ChannelKind.MATRIX:
            if _MATRIX_ID.match(value):
                return value
            raise refuse("identifiant Matrix @utilisateur:serveur ou !salon:serveur attendu")
        case ChannelKind.X | ChannelKind.MASTODON:
            if value in ("", _PUBLIC):
                return _PUBLIC
            if _HANDLE.match(value):
                return value if value.startswith("@") else "@" + value
            raise refuse("compte public attendu (@compte) ou « public »")
        case ChannelKind.WEBHOOK:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise refuse("URL http(s) attendue")
            return value
        case ChannelKind.APPRISE:
            if "://" not in value:
                raise refuse("URL Apprise attendue (schéma://...)")
            return value
    raise refuse("canal inconnu")  # pragma: no cover - exhaustive match above
