"""Keeping credentials out of reprs, errors, logs and pages."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["mask", "redact"]


def mask(value: str) -> str:
    """``****abcd`` for a long secret, ``****`` for a short or empty one."""
    if len(value) < 12:
        return "****"
    return "****" + value[-4:]


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret in ``text`` by its mask."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return text
