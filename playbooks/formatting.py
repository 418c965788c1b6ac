"""French formatting of placeholder values (times shown in Europe/Paris)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def paris(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the time zone is required")
    return moment.astimezone(PARIS)


def french_clock(moment: datetime) -> str:
    """`14 h 30`, `9 h 05`, `14 h` (French typography: no `00` on the full hour)."""
    local = paris(moment)
    if local.minute == 0:
        return f"{local.hour} h"
    return f"{local.hour} h {local.minute:02d}"


def french_day(moment: datetime) -> str:
    """`mardi 12 mars`, `samedi 1er juin`."""
    local = paris(moment)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{_DAYS[local.weekday()]} {day} {_MONTHS[local.month - 1]}"


def french_moment(moment: datetime) -> str:
    """`mardi 12 mars à 14 h 30`."""
    return f"{french_day(moment)} à {french_clock(moment)}"


def french_list(items: Sequence[str]) -> str:
    """`Abbeville, Amiens et Péronne`."""
    names = [item.strip() for item in items]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} et {names[-1]}"


def bullet_lines(items: Sequence[str]) -> str:
    """One item per line, each introduced by a dash."""
    return "\n".join(f"- {item.strip()}" for item in items)


def inline_items(items: Sequence[str]) -> str:
    """Items on one line, separated by semicolons (for short channels)."""
    return " ; ".join(item.strip().rstrip(".") for item in items) + "."
