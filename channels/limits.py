"""How each provider counts length: X weighted characters, Mastodon characters, SMS segments.

X follows the twitter-text v3 configuration (``maxWeightedTweetLength`` 280, ``scale`` 100,
``defaultWeight`` 200, ``transformedURLLength`` 23, emoji parsing on): after NFC
normalisation, every URL counts 23, every emoji sequence counts 2 whatever its number of
code points, a code point in one of the light ranges below counts 1, any other counts 2.
The emoji matcher covers what a bulletin contains (pictographs, variation selectors,
skin tones, ZWJ sequences, flags, keycaps); the URL matcher covers ``http(s)://`` links,
``www.`` hosts and bare domains under common top-level domains.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "MASTODON_MAX_CHARS",
    "TELEGRAM_MAX_CHARS",
    "X_MAX_WEIGHTED",
    "SmsCount",
    "mastodon_length",
    "sms_count",
    "x_weighted_length",
]

X_MAX_WEIGHTED = 280
TELEGRAM_MAX_CHARS = 4096
MASTODON_MAX_CHARS = 500
_X_URL_LENGTH = 23
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

_TLDS = "fr|com|org|net|eu|info|io|be|ch|de|uk|gouv\\.fr|re|gp|mq|nc|pf|yt"
_URL = re.compile(
    r"(?:https?://[^\s<>\"]+|www\.[^\s<>\"]+"
    rf"|\b[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.(?:{_TLDS})\b"
    r"(?:/[^\s<>\"]*)?)"
)
_TRAILING_PUNCTUATION = ".,;:!?)»'\""

_PICTO = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328"
    "\u23cf\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe"
    "\u2600-\u27bf\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d"
    "\u3297\u3299\U0001f000-\U0001faff"
)
_MODIFIER = "(?:\ufe0f|[\U0001f3fb-\U0001f3ff]|[\U000e0020-\U000e007f])*"
_EMOJI = re.compile(
    r"[\U0001f1e6-\U0001f1ff]{2}"  # flags: regional indicator pairs
    r"|[#*0-9]\ufe0f?\u20e3"  # keycaps
    rf"|[{_PICTO}]{_MODIFIER}(?:\u200d[{_PICTO}]{_MODIFIER})*"
)


def _x_url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _TRAILING_PUNCTUATION:
            end -= 1
        spans.append((start, end))
    return spans


def _x_weight(char: str) -> int:
    code = ord(char)
    if any(low <= code <= high for low, high in _X_LIGHT_RANGES):
        return 1
    return 2


def x_weighted_length(text: str) -> int:
    """Length of ``text`` as X counts it against the 280 limit."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end in _x_url_spans(text):
        total += _x_weight_without_urls(text[position:start])
        total += _X_URL_LENGTH
        position = end
    return total + _x_weight_without_urls(text[position:])


def _x_weight_without_urls(text: str) -> int:
    total = 0
    position = 0
    for match in _EMOJI.finditer(text):
        total += sum(_x_weight(c) for c in text[position : match.start()])
        total += 2
        position = match.end()
    return total + sum(_x_weight(c) for c in text[position:])


def mastodon_length(text: str) -> int:
    """Mastodon counts code points, every link as 23."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in re.finditer(r"https?://[^\s<>\"]+", text):
        total += len(text[position : match.start()]) + _X_URL_LENGTH
        position = match.end()
    return total + len(text[position:])


_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class SmsCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def sms_count(text: str) -> SmsCount:
    """Segments needed for ``text``: 160/153 septets in GSM-7, 70/67 code units in UCS-2.

    An extension character (``€``, ``[``...) takes two septets and is never split across
    segments; nor is a UTF-16 surrogate pair.
    """
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text):
        sizes = [2 if c in _GSM7_EXTENSION else 1 for c in text]
        return SmsCount("GSM-7", sum(sizes), _segments(sizes, single=160, multi=153))
    sizes = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SmsCount("UCS-2", sum(sizes), _segments(sizes, single=70, multi=67))


def _segments(sizes: list[int], *, single: int, multi: int) -> int:
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > multi:
            segments += 1
            used = 0
        used += size
    return segments
