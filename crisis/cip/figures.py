"""What the cabinet reads of the CIP: calls per hour, waiting times (received → answered),
open follow-ups, topics and communes most asked about, and the questions no FAQ entry
answered (suggested entries for the communicators, hints for the next bulletin)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from crisis.cip.calls import CipCall

PARIS = ZoneInfo("Europe/Paris")
TOP = 5


@dataclass(frozen=True, slots=True)
class Suggestion:
    question: str
    asked: int
    topic: str
    communes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figures:
    calls: int
    per_hour: tuple[tuple[str, int], ...]
    """(« 14 h », calls received in that Paris hour), in order."""
    wait_p50_s: int | None
    wait_p90_s: int | None
    unanswered_calls: int
    """Calls with no answered time (hung up before an operator took them)."""
    open_follow_ups: int
    topics: tuple[tuple[str, int], ...]
    communes: tuple[tuple[str, int], ...]
    suggestions: tuple[Suggestion, ...]


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (p50 of 1, 2, 3, 4 is 2)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _hour(at: datetime) -> str:
    return f"{at.astimezone(PARIS).hour} h"


def _suggestions(calls: Sequence[CipCall]) -> tuple[Suggestion, ...]:
    grouped: dict[str, list[CipCall]] = {}
    for call in calls:
        if call.faq_id is None:
            grouped.setdefault(call.question.casefold().rstrip(" ?!."), []).append(call)
    ranked = sorted(grouped.values(), key=lambda group: (-len(group), group[0].received_at))
    return tuple(
        Suggestion(
            question=group[0].question,
            asked=len(group),
            topic=group[0].topic,
            communes=tuple(sorted({c.commune for c in group if c.commune})),
        )
        for group in ranked
    )


def of(calls: Sequence[CipCall]) -> Figures:
    waits = [
        (c.answered_at - c.received_at).total_seconds() for c in calls if c.answered_at is not None
    ]
    hours: dict[str, int] = {}
    for call in sorted(calls, key=lambda c: c.received_at):
        hours[_hour(call.received_at)] = hours.get(_hour(call.received_at), 0) + 1
    p50, p90 = percentile(waits, 0.5), percentile(waits, 0.9)
    return Figures(
        calls=len(calls),
        per_hour=tuple(hours.items()),
        wait_p50_s=None if p50 is None else round(p50),
        wait_p90_s=None if p90 is None else round(p90),
        unanswered_calls=sum(1 for c in calls if c.answered_at is None),
        open_follow_ups=sum(1 for c in calls if c.follow_up and c.follow_up_done_at is None),
        topics=tuple(Counter(c.topic for c in calls).most_common(TOP)),
        communes=tuple(Counter(c.commune for c in calls if c.commune).most_common(TOP)),
        suggestions=_suggestions(calls),
    )
