"""The key that signs receipt-confirmation links, shared by the web pages and the dispatcher."""

from __future__ import annotations

import secrets
from functools import cache

from crisis.app.settings import Settings


@cache
def _process_key() -> str:
    return secrets.token_urlsafe(32)


def confirmation_secret(settings: Settings) -> str:
    """`TOCSIN_SECRET_KEY`; without one, a key for this process only (links die at restart)."""
    if settings.secret_key is not None:
        return "confirmation:" + settings.secret_key.get_secret_value()
    return _process_key()
