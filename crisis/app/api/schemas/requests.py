"""What every request body of `/api/v1` refuses before a service sees it."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from crisis.text import INVISIBLE, control_character_problem


def _control_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return control_character_problem(value)
    if isinstance(value, dict):
        items = (p for k, v in value.items() for p in (_control_problem(k), _control_problem(v)))
        return next((p for p in items if p), None)
    if isinstance(value, list | tuple):
        return next((p for p in map(_control_problem, value) if p), None)
    return None


class RequestModel(BaseModel):
    """Unknown fields refused, and no NUL or other control character anywhere (no database
    stores a NUL in text; XML, as in CAP, cannot carry the others)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_control_character(cls, data: Any) -> Any:
        problem = _control_problem(data)
        if problem:
            raise ValueError(problem)
        return data


def _visible(value: str) -> str:
    if not INVISIBLE.sub("", value):
        raise ValueError("le titre ne contient aucun caractère visible")
    return value


VisibleText = Annotated[str, AfterValidator(_visible)]
"""A title a person can read: not only spaces or zero-width characters."""
