"""Errors raised by channels.

Every adapter translates its library's exceptions into this tree, in exactly one
function (``map_error`` in each adapter module); nothing library-specific leaks out.

    ChannelError                  base class; ``str()`` never contains a secret
    ├── TransientChannelError     try again later; ``retry_after`` (seconds) when the
    │                             provider said how long to wait (429, SMTP 4xx, timeouts,
    │                             connection drops, 5xx)
    └── PermanentChannelError     retrying the same message will fail the same way
                                  (SMTP 5xx, 400/403 from an API, message too long)
        ├── ChannelMisconfigured  the channel itself cannot work: bad credentials, unknown
        │                         host, missing setting; fix the configuration, not the message
        └── InvalidRecipient      the address is malformed or refused by the provider
                                  (bot blocked by the user, mailbox unknown); ``recipient``
                                  names it

A per-recipient refusal inside a multi-recipient e-mail is *data* (see ``Receipt.refused``),
not an exception.
"""

from __future__ import annotations

__all__ = [
    "ChannelError",
    "ChannelMisconfigured",
    "InvalidRecipient",
    "PermanentChannelError",
    "TransientChannelError",
]


class ChannelError(Exception):
    def __init__(self, message: str, *, kind: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class TransientChannelError(ChannelError):
    def __init__(self, message: str, *, kind: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, kind=kind)
        self.retry_after = retry_after


class PermanentChannelError(ChannelError):
    pass


class ChannelMisconfigured(PermanentChannelError):
    pass


class InvalidRecipient(PermanentChannelError):
    def __init__(self, message: str, *, kind: str = "", recipient: str = "") -> None:
        super().__init__(message, kind=kind)
        self.recipient = recipient
