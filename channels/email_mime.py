"""The bytes of an e-mail, built once per rendering and completed per recipient.

A fan-out sends one rendering to thousands of people: the headers every copy shares and the
quoted-printable parts are encoded once, then each copy gets its own ``To``, ``Date`` and
``Message-ID``. A text personalised per recipient (a signed confirmation link) differs from
the rendering on one line only: parts are encoded line by line through the same cache, so
only that line is encoded again. ``binascii.b2a_qp`` encodes each line on its own, hence the
result is byte for byte what encoding the whole part at once gives.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr

from channels.base import Message, Recipient

__all__ = ["MimeBuilder", "encode_part"]

# Quoted-printable writes every "=" of the content as "=3D", so this boundary can never
# appear inside a part: one boundary serves every message.
BOUNDARY = "=_tocsin_alternative"
_MARK = b"--" + BOUNDARY.encode("ascii")
_OPEN = b"\r\n\r\n" + _MARK + b"\r\n"
_NEXT = b"\r\n" + _MARK + b"\r\n"
_CLOSE = b"\r\n" + _MARK + b"--\r\n"
_PLAIN = (
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)
_HTML = _PLAIN.replace(b"text/plain", b"text/html")
_CACHE_LIMIT = 4096  # encoded texts and lines kept; personalised lines fill it, then it resets


class MimeBuilder:
    def __init__(self, *, from_header: str, message_id_domain: str) -> None:
        self._from = b"From: " + from_header.encode("ascii")
        self._domain = message_id_domain.encode("ascii")
        self._heads: dict[tuple[str, str, bool, bool], bytes] = {}
        self._encoded: dict[str, bytes] = {}
        self._second = -1
        self._date = b""

    def build(self, message: Message, recipients: Sequence[Recipient], *, key: str) -> bytes:
        """The RFC 5322 message for ``recipients``; ``key`` makes its ``Message-ID``."""
        to = ", ".join(formataddr((r.display_name, r.address), "utf-8") for r in recipients)
        return b"".join(
            (
                self._from,
                b"\r\nTo: ",
                to.encode("ascii"),
                b"\r\nDate: ",
                self._now(),
                b"\r\nMessage-ID: <",
                key.encode("ascii"),
                b"@",
                self._domain,
                b">\r\n",
                self._head(message),
                self._body(message),
            )
        )

    def _now(self) -> bytes:
        """The ``Date`` header's value, formatted once per second."""
        second = int(time.time())
        if second != self._second:
            stamp = datetime.fromtimestamp(second, UTC)
            self._second, self._date = second, format_datetime(stamp).encode("ascii")
        return self._date

    def _head(self, message: Message) -> bytes:
        """The headers shared by every copy of a rendering, from ``Subject`` on."""
        shape = (message.subject, message.audience, message.exercise, message.html is not None)
        head = self._heads.get(shape)
        if head is None:
            if len(self._heads) >= _CACHE_LIMIT:
                self._heads.clear()
            headers = [
                "Subject: " + _header(message.subject),
                "MIME-Version: 1.0",
                "Auto-Submitted: auto-generated",
                "X-Tocsin-Audience: " + _header(message.audience),
            ]
            if message.exercise:
                headers.append("X-Tocsin-Exercise: yes")
            if message.html is not None:
                headers.append(f'Content-Type: multipart/alternative; boundary="{BOUNDARY}"')
            head = "\r\n".join(headers).encode("ascii")
            self._heads[shape] = head
        return head

    def _body(self, message: Message) -> bytes:
        text = self._qp(message.text)
        if message.html is None:
            return b"\r\n" + _PLAIN + text
        html = self._qp(message.html)
        return b"".join((_OPEN, _PLAIN, text, _NEXT, _HTML, html, _CLOSE))

    def _qp(self, content: str) -> bytes:
        encoded = self._encoded.get(content)
        if encoded is None:
            if len(self._encoded) >= _CACHE_LIMIT:
                self._encoded.clear()
            encoded = encode_part(content, cache=self._encoded)
            self._encoded[content] = encoded
        return encoded


def encode_part(content: str, *, cache: dict[str, bytes] | None = None) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends, encoded line by line through ``cache``.

    A lone CR is a line end, as SMTP makes it anyway.
    """
    lines = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    last = lines.pop()
    out = []
    for line in lines:
        out.append(_line(line + "\n", cache))
    if last:
        out.append(_line(last, cache))
    return b"".join(out)


def _line(line: str, cache: dict[str, bytes] | None) -> bytes:
    encoded = cache.get(line) if cache is not None else None
    if encoded is None:
        encoded = binascii.b2a_qp(line.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
        if cache is not None:
            cache[line] = encoded
    return encoded


def _header(value: str) -> str:
    if value.isascii() and "\n" not in value and "\r" not in value:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")
