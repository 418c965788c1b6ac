"""What every request body of `/api/v1` refuses before a service sees it."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060-\u2064\ufeff\u00ad]+")


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_nul(item) for item in value)
    return False


class RequestModel(BaseModel):
    """Unknown fields refused, and no NUL character anywhere (no database stores it in text)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul_character(cls, data: Any) -> Any:
        if _contains_nul(data):
            raise ValueError("le caractère nul (U+0000) n'est pas accepté dans un texte")
        return data


def _visible(value: str) -> str:
    if not INVISIBLE.sub("", value):
        raise ValueError("le titre ne contient aucun caractère visible")
    return value


VisibleText = Annotated[str, AfterValidator(_visible)]
"""A title a person can read: not only spaces or zero-width characters."""
