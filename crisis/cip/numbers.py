"""The CIP's single number and callers' callback numbers: valid French phone numbers."""

from __future__ import annotations

import phonenumbers

from crisis.cell.crises import RefusedInput

FRENCH_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF"})


def french_number(text: str | None, *, code: str, what: str) -> str:
    """The number in E.164 form; refused (422) unless it is a valid French number."""
    raw = (text or "").strip()
    if not raw:
        raise RefusedInput(f"{code}_missing", f"Indiquez {what}.")
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        number = None
    region = phonenumbers.region_code_for_number(number) if number is not None else None
    if number is None or not phonenumbers.is_valid_number(number) or region not in FRENCH_REGIONS:
        raise RefusedInput(
            f"{code}_invalid",
            f"Numéro invalide : « {raw[:40]} » n'est pas un numéro de téléphone français valide.",
        )
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def shown(e164: str) -> str:
    """« 08 00 10 02 00 »: the national form people dial."""
    number = phonenumbers.parse(e164, "FR")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
