"""Placeholder types: what a value of each type must look like."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from playbooks.model import PlaceholderType

_PHONE_DIGITS = re.compile(r"^(?:0\d{9}|\+33\d{9}|\d{3,6})$")
_URL = re.compile(r"^https?://[^\s/]+\.[^\s]+$")

TYPE_LABELS: dict[PlaceholderType, str] = {
    "communes": "une liste de noms de communes",
    "time": "une date et heure avec fuseau",
    "text": "un texte",
    "instructions": "une liste de consignes",
    "phone": "un numéro de téléphone",
    "url": "une adresse web (https://…)",
    "next_update": "une date et heure avec fuseau",
}


def type_problem(kind: PlaceholderType, value: object) -> str | None:
    """Why `value` is not a valid value of type `kind` (in French), or None when it is."""
    expected = f"attendu : {TYPE_LABELS[kind]}"
    match kind:
        case "communes" | "instructions":
            if not _is_text_list(value):
                return expected
        case "time" | "next_update":
            if not isinstance(value, datetime):
                return expected
            if value.tzinfo is None or value.utcoffset() is None:
                return "date et heure sans fuseau horaire"
        case "text":
            if not isinstance(value, str) or not value.strip():
                return expected
        case "phone":
            if not isinstance(value, str) or not _PHONE_DIGITS.match(_phone_digits(value)):
                return expected
        case "url":
            if not isinstance(value, str) or not _URL.match(value):
                return expected
    return None


def parse_sample(kind: PlaceholderType, raw: object) -> object:
    """Turn a value read from YAML into the Python value of its type (dates are ISO strings)."""
    if kind in ("time", "next_update") and isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return raw
    if kind in ("communes", "instructions") and isinstance(raw, list):
        return tuple(raw)
    return raw


def _is_text_list(value: object) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(isinstance(item, str) and item.strip() for item in value)
    )


def _phone_digits(value: str) -> str:
    return re.sub(r"[\s.\-\u00a0\u202f]", "", value)
