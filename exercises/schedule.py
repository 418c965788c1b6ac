"""When a drill runs: a one-off instant, or an RFC 5545 RRULE in Europe/Paris wall time.

The rule is expanded in naive local time (``dateutil.rrule``) and each occurrence is placed in
Europe/Paris with ``zoneinfo``: on the spring-forward night a 02:30 that does not exist runs
at the same instant as 03:30 (its UTC is that of the offset before the change), on the
fall-back night a 02:30 that happens twice runs once, at its first passage. Occurrences are
compared in UTC, so two wall times that fall on one instant launch once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from exercises.errors import DrillRefused

__all__ = ["PARIS", "Schedule", "checked_schedule"]

PARIS = ZoneInfo("Europe/Paris")
MIN_GAP = timedelta(hours=1)
HORIZON = timedelta(days=5 * 366)  # a rule with no occurrence in five years never fires
CHECKED_OCCURRENCES = 60
MAX_RULE_LENGTH = 500
# Parts whose expansion stays cheap and whose impossible combinations are detected up front.
ALLOWED_PARTS = frozenset(
    {
        "FREQ",
        "INTERVAL",
        "COUNT",
        "UNTIL",
        "BYDAY",
        "BYMONTHDAY",
        "BYMONTH",
        "BYHOUR",
        "BYMINUTE",
        "BYSETPOS",
        "WKST",
    }
)
MONTH_DAYS = {2: 29, 4: 30, 6: 30, 9: 30, 11: 30}


def _local_naive(instant: datetime) -> datetime:
    return instant.astimezone(PARIS).replace(tzinfo=None)


def _utc(local: datetime) -> datetime:
    """A Paris wall time as an instant (fold 0: the first passage, or the pre-change offset)."""
    return local.replace(tzinfo=PARIS, fold=0).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A one-off `starts_at` (UTC), or `rule` from `first_at` (UTC, read in Paris time)."""

    starts_at: datetime | None = None
    rule: str | None = None
    first_at: datetime | None = None

    def _rrule(self) -> rrule:
        assert self.rule is not None and self.first_at is not None
        parsed = rrulestr(self.rule, dtstart=_local_naive(self.first_at))
        assert isinstance(parsed, rrule)
        return parsed

    def next_after(self, after: datetime) -> datetime | None:
        """The first occurrence strictly after `after` (UTC), none past the horizon."""
        if self.rule is None:
            return self.starts_at if self.starts_at and self.starts_at > after else None
        horizon = _local_naive(after + HORIZON)
        rule = self._rrule()
        local = rule.after(_local_naive(after) - timedelta(hours=3), inc=True)
        while local is not None and local <= horizon:
            instant = _utc(local)
            if instant > after:
                return instant
            local = rule.after(local)
        return None

    def upcoming(self, after: datetime, count: int) -> list[datetime]:
        """The next `count` occurrences after `after`, in UTC, each one instant once."""
        found: list[datetime] = []
        cursor = after
        while len(found) < count:
            nxt = self.next_after(cursor)
            if nxt is None:
                break
            found.append(nxt)
            cursor = nxt
        return found


def _impossible_days(months: str | None, days: str | None) -> bool:
    """A month-day that no chosen month has (30 February): dateutil would search for ever."""
    if not months or not days:
        return False
    try:
        chosen = [int(m) for m in months.split(",")]
        wanted = [int(d) for d in days.split(",")]
    except ValueError:
        return False
    return not any(abs(d) <= MONTH_DAYS.get(m, 31) for m in chosen for d in wanted)


def _parsed_rule(rule: str, first_at: datetime) -> rrule:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or len(text) > MAX_RULE_LENGTH or "\n" in text:
        raise DrillRefused("invalid_rrule", "Règle de récurrence (RRULE) invalide.")
    parts = dict(part.partition("=")[::2] for part in text.upper().split(";"))
    unknown = sorted(set(parts) - ALLOWED_PARTS)
    if unknown or parts.get("COUNT") == "0":
        raise DrillRefused(
            "invalid_rrule",
            "Règle de récurrence (RRULE) refusée : parties admises "
            + ", ".join(sorted(ALLOWED_PARTS))
            + ".",
            {"unknown": unknown},
        )
    if _impossible_days(parts.get("BYMONTH"), parts.get("BYMONTHDAY")):
        raise DrillRefused("rrule_never_fires", "Cette règle de récurrence ne se déclenche jamais.")
    try:
        parsed = rrulestr(text, dtstart=_local_naive(first_at))
    except (ValueError, TypeError) as exc:
        raise DrillRefused(
            "invalid_rrule", f"Règle de récurrence (RRULE) invalide : « {rule} »."
        ) from exc
    if not isinstance(parsed, rrule):
        raise DrillRefused("invalid_rrule", "Une seule règle RRULE est attendue.")
    if parts.get("FREQ") in ("SECONDLY", "MINUTELY"):
        raise DrillRefused(
            "rrule_too_frequent", "Un exercice ne peut pas revenir plus d'une fois par heure."
        )
    return parsed


def checked_schedule(
    *,
    starts_at: datetime | None,
    rule: str | None,
    first_at: datetime | None,
    now: datetime,
) -> tuple[Schedule, datetime]:
    """The schedule and its first run after `now`, or `DrillRefused` (422) with the reason."""
    if (starts_at is None) == (rule is None):
        raise DrillRefused(
            "schedule_required",
            "Indiquez soit une date de lancement unique, soit une règle de récurrence.",
        )
    for value in (starts_at, first_at):
        if value is not None and value.utcoffset() is None:
            raise DrillRefused("instant_without_offset", "Indiquez l'heure avec son fuseau.")
    if starts_at is not None:
        if starts_at <= now:
            raise DrillRefused(
                "starts_at_in_past",
                "La date de lancement est passée : choisissez un instant futur.",
            )
        schedule = Schedule(starts_at=starts_at.astimezone(UTC))
        return schedule, schedule.starts_at or starts_at
    assert rule is not None
    origin = first_at or _utc(_local_naive(now).replace(hour=0, minute=0, second=0, microsecond=0))
    _parsed_rule(rule, origin)
    schedule = Schedule(rule=rule.strip().removeprefix("RRULE:"), first_at=origin.astimezone(UTC))
    runs = schedule.upcoming(now, CHECKED_OCCURRENCES)
    if not runs:
        raise DrillRefused(
            "rrule_never_fires",
            "Cette règle de récurrence ne se déclenche jamais dans les cinq prochaines années.",
        )
    gaps = [b - a for a, b in pairwise(runs)]
    if any(gap < MIN_GAP for gap in gaps):
        raise DrillRefused(
            "rrule_too_frequent", "Un exercice ne peut pas revenir plus d'une fois par heure."
        )
    return schedule, runs[0]
