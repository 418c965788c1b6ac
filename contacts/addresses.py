"""Check and normalise channel addresses: e-mail, mobile (E.164), Telegram, Matrix, phone."""

from __future__ import annotations

import re

import phonenumbers

from contacts.directory import AddressKind

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_TELEGRAM = re.compile(r"^-?\d{5,20}$")
_MATRIX = re.compile(r"^@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d{1,5})?$")
FICTION_PREFIXES = ("+3363998", "+33199", "+3326191", "+3335301", "+3346571", "+3353649")
"""ARCEP numbers reserved for fiction (demo data): accepted although unallocated."""
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


class AddressError(ValueError):
    """The address is malformed for its channel; the message is French, for the report."""


def _phone(text: str, *, mobile: bool) -> str:
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException as error:
        raise AddressError(f"numéro illisible « {text} »") from error
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith(FICTION_PREFIXES) and phonenumbers.is_possible_number(number):
        return e164
    if not phonenumbers.is_valid_number(number):
        raise AddressError(f"numéro invalide « {text} »")
    if mobile and phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise AddressError(f"« {text} » n'est pas un numéro de mobile (SMS impossible)")
    return e164


def normalise(kind: str, address: str) -> str:
    """The canonical form of `address` for `kind`, or AddressError."""
    text = address.strip()
    if not text:
        raise AddressError("adresse vide")
    match kind:
        case AddressKind.EMAIL:
            if len(text) > 254 or not _EMAIL.match(text):
                raise AddressError(f"adresse électronique invalide « {text} »")
            local, _, domain = text.rpartition("@")
            return f"{local}@{domain.lower()}"
        case AddressKind.SMS:
            return _phone(text, mobile=True)
        case AddressKind.PHONE:
            return _phone(text, mobile=False)
        case AddressKind.TELEGRAM:
            if not _TELEGRAM.match(text):
                raise AddressError(f"identifiant de conversation Telegram invalide « {text} »")
            return text
        case AddressKind.MATRIX:
            if not _MATRIX.match(text):
                raise AddressError(f"identifiant Matrix invalide « {text} » (@nom:serveur)")
            return text
    raise AddressError(f"canal inconnu « {kind} »")


def masked(kind: str, address: str) -> str:
    """What a role without access to personal channels sees."""
    if kind == AddressKind.EMAIL:
        local, _, domain = address.partition("@")
        return f"{local[:1]}…@{domain}"
    if kind in (AddressKind.SMS, AddressKind.PHONE):
        return f"{address[:4]}…{address[-2:]}"
    return "…"
