"""A simple built-in check of per-channel length limits.

The authoritative rules live in `channels.rendering`; `playbooks` cannot import it, so the
check takes any `LengthChecker` and the CLI passes the channels one. This default is close
enough to catch templates that cannot fit: X counts 280 weighted characters with every URL
as 23; Mastodon 500 with URLs as 23; Telegram 4,096; SMS at most `SMS_MAX_SEGMENTS`
segments (GSM 7-bit: 160, or 153 per part; otherwise UCS-2: 70, or 67 per part).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable

LengthChecker = Callable[[str, str], list[str]]

URL_WEIGHT = 23
X_LIMIT = 280
MASTODON_LIMIT = 500
TELEGRAM_LIMIT = 4096
SMS_MAX_SEGMENTS = 3

_URL = re.compile(r"https?://\S+")
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def x_weighted_length(text: str) -> int:
    """Length as X counts it: URLs 23, Latin and common punctuation 1, anything else 2."""
    text = unicodedata.normalize("NFC", text)
    urls = _URL.findall(text)
    rest = _URL.sub("", text)
    return URL_WEIGHT * len(urls) + sum(1 if _light(char) else 2 for char in rest)


def mastodon_length(text: str) -> int:
    urls = _URL.findall(text)
    return URL_WEIGHT * len(urls) + len(_URL.sub("", text))


def sms_segments(text: str) -> int:
    if all(char in _GSM_BASIC or char in _GSM_EXTENDED for char in text):
        septets = sum(2 if char in _GSM_EXTENDED else 1 for char in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def default_length_checker(channel: str, text: str) -> list[str]:
    """Problems (in French) of `text` sent on `channel`; empty when it fits."""
    match channel:
        case "x":
            length = x_weighted_length(text)
            if length > X_LIMIT:
                return [f"trop long pour X : {length} caractères pondérés (maximum {X_LIMIT})"]
        case "mastodon":
            length = mastodon_length(text)
            if length > MASTODON_LIMIT:
                return [f"trop long pour Mastodon : {length} caractères (maximum {MASTODON_LIMIT})"]
        case "telegram":
            if len(text) > TELEGRAM_LIMIT:
                return [
                    f"trop long pour Telegram : {len(text)} caractères (maximum {TELEGRAM_LIMIT})"
                ]
        case "sms":
            segments = sms_segments(text)
            if segments > SMS_MAX_SEGMENTS:
                return [f"trop long pour un SMS : {segments} segments (maximum {SMS_MAX_SEGMENTS})"]
    return []


def _light(char: str) -> bool:
    code = ord(char)
    return (
        code <= 0x10FF
        or 0x2000 <= code <= 0x200D
        or 0x2010 <= code <= 0x201F
        or 0x2032 <= code <= 0x2037
    )
