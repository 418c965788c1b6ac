"""What a text must be to be stored and read: no control character, something visible."""

from __future__ import annotations

import re

INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060-\u2064\ufeff\u00ad]+")
"""Spaces and the characters that take no room on screen (zero-width, joiners, soft hyphen)."""

_ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""C0 control characters except tab, line feed and carriage return."""


def visible_length(text: str) -> int:
    """How many characters a reader sees, runs of spaces counting as one."""
    return len(" ".join(_ZERO_WIDTH.sub("", text).split()))


def control_character_problem(text: str) -> str | None:
    """Why `text` cannot be stored (a NUL or another control character), or None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "le caractère nul (U+0000) n'est pas accepté dans un texte"
    return f"le caractère de contrôle U+{ord(found.group()):04X} n'est pas accepté dans un texte"
