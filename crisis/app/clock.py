"""The one place that reads the wall clock; everything else is handed `now`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def paris(instant: datetime) -> datetime:
    return instant.astimezone(PARIS)


class OffsetClock:
    """A test hook: the wall clock shifted so that it reads `start` when created.

    `tocsin serve` uses it when `TOCSIN_FAKE_NOW` holds an ISO 8601 instant with offset;
    time then runs forward normally from there. Never set it in production.
    """

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def clock_from_environment(environ: dict[str, str]) -> Clock:
    fake = environ.get("TOCSIN_FAKE_NOW")
    if not fake:
        return SystemClock()
    start = datetime.fromisoformat(fake)
    if start.utcoffset() is None:
        raise ValueError("TOCSIN_FAKE_NOW needs an offset, e.g. 2026-11-28T14:30:00+00:00")
    return OffsetClock(start)
