"""The closed sets every wing shares, each declared once (their French labels: `crisis.labels`)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CrisisMode"]


class CrisisMode(StrEnum):
    """Fixed at a crisis' creation: an exercise never reaches a real recipient."""

    REAL = "real"
    EXERCISE = "exercise"
