"""How values look inside a template: French text by default, French filters to reshape them.

Values reach the sandbox wrapped: a datetime becomes an object whose only face is its French
text (no attributes to explore), lists of communes and instructions become tuples that print
as « A, B et C » or as one instruction per line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from jinja2.exceptions import TemplateRuntimeError

from playbooks.formatting import (
    bullet_lines,
    french_clock,
    french_day,
    french_list,
    french_moment,
    inline_items,
)
from playbooks.model import PlaceholderType


class _Moment:
    """A datetime as a template sees it: French text, no attributes."""

    __slots__ = ("_value",)

    def __init__(self, value: datetime) -> None:
        self._value = value

    def __str__(self) -> str:
        return french_moment(self._value)


class _Names(tuple[str, ...]):
    __slots__ = ()

    def __str__(self) -> str:
        return french_list(self)


class _Items(tuple[str, ...]):
    __slots__ = ()

    def __str__(self) -> str:
        return bullet_lines(self)


def _moment_filter(format_: Callable[[datetime], str]) -> Callable[[object], str]:
    def apply(value: object) -> str:
        if not isinstance(value, _Moment):
            raise TemplateRuntimeError("ce filtre s'applique à une date et heure")
        return format_(value._value)

    return apply


def _list_filter(format_: Callable[[Sequence[str]], str]) -> Callable[[object], str]:
    def apply(value: object) -> str:
        if not isinstance(value, tuple):
            raise TemplateRuntimeError("ce filtre s'applique à une liste")
        return format_(value)

    return apply


FILTERS: dict[str, Callable[..., Any]] = {
    "heure": _moment_filter(french_clock),
    "jour": _moment_filter(french_day),
    "date_heure": _moment_filter(french_moment),
    "liste": _list_filter(french_list),
    "puces": _list_filter(bullet_lines),
    "en_ligne": _list_filter(inline_items),
    "upper": str.upper,
    "lower": str.lower,
    "capitalize": str.capitalize,
    "length": len,
}

_MOMENTS: tuple[PlaceholderType, ...] = ("time", "next_update")
_LISTS: tuple[PlaceholderType, ...] = ("communes", "instructions")
_TEXTS: tuple[PlaceholderType, ...] = ("text", "phone", "url")
FILTER_TYPES: dict[str, tuple[PlaceholderType, ...]] = {
    "heure": _MOMENTS,
    "jour": _MOMENTS,
    "date_heure": _MOMENTS,
    "liste": _LISTS,
    "puces": _LISTS,
    "en_ligne": _LISTS,
    "upper": _TEXTS,
    "lower": _TEXTS,
    "capitalize": _TEXTS,
}


def wrap(kind: PlaceholderType, value: object) -> object:
    if isinstance(value, datetime):
        return _Moment(value)
    if kind == "communes" and isinstance(value, Sequence):
        return _Names(value)
    if kind == "instructions" and isinstance(value, Sequence):
        return _Items(value)
    return value
