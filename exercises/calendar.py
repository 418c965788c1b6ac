"""The programme as iCalendar (RFC 5545), for the trainers' agendas.

A recurring drill is one event with its RRULE in Europe/Paris time (the agenda expands it as
Tocsin does, across DST changes); a one-off drill is one event at its instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vRecur

from exercises.programme import KIND_LABELS, Drill
from exercises.schedule import PARIS

__all__ = ["programme_ics"]

EVENT_LENGTH = timedelta(hours=1)


def _event(drill: Drill, *, now: datetime, base_url: str) -> Event | None:
    event = Event()
    event.add("uid", f"exercice-{drill.id}@tocsin")
    event.add("dtstamp", now)
    event.add("summary", f"EXERCICE — {drill.title} ({KIND_LABELS.get(drill.kind, drill.kind)})")
    event.add("url", f"{base_url.rstrip('/')}/exercices/{drill.id}")
    if drill.rrule and drill.first_at:
        start = drill.first_at.astimezone(PARIS)
        event.add("dtstart", start)
        event.add("rrule", vRecur.from_ical(drill.rrule))
    elif drill.starts_at:
        start = drill.starts_at
        event.add("dtstart", start)
    else:
        return None
    event.add("dtend", start + EVENT_LENGTH)
    return event


def programme_ics(drills: Sequence[Drill], *, now: datetime, base_url: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Tocsin//Programme d'exercices//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Tocsin — programme d'exercices")
    for drill in drills:
        event = _event(drill, now=now, base_url=base_url)
        if event is not None:
            calendar.add_component(event)
    return bytes(calendar.to_ical())
