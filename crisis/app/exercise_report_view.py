"""A drill report's figures as people read them, the same for the page and the PDF: each
instant also in Paris time (`…_local`), each duration in words (`…_text`), each rate with
its percent sign (`…_text`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crisis.app.web.templating import format_paris

__all__ = ["duration", "percent", "shown"]

INSTANT_KEYS = ("_at", "deadline")


def duration(seconds: int | None) -> str:
    """« 4 min 05 s », « 1 h 02 min », « — » when there is none."""
    if seconds is None:
        return "—"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s"


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",") + " %"


def _value(key: str, value: Any) -> tuple[str, str] | None:
    if (key == "at" or key.endswith(INSTANT_KEYS)) and (value is None or isinstance(value, str)):
        return f"{key}_local", format_paris(datetime.fromisoformat(value) if value else None)
    if key.endswith("_seconds") and (value is None or isinstance(value, int)):
        return f"{key}_text", duration(value)
    if key.endswith("_rate"):
        return f"{key}_text", percent(value)
    return None


def shown(view: dict[str, Any]) -> dict[str, Any]:
    """The view with its readable companions added, nested dicts and lists too."""
    out = dict(view)
    for key, value in view.items():
        extra = _value(key, value)
        if extra is not None:
            out[extra[0]] = extra[1]
        elif isinstance(value, dict):
            out[key] = shown(value)
        elif isinstance(value, list):
            out[key] = [shown(v) if isinstance(v, dict) else v for v in value]
    return out
