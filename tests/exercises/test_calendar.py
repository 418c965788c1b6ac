"""The programme as a private iCalendar subscription for the trainers' agendas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from icalendar import Calendar

from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.app.web.exercise_agenda import agenda_path
from tests.exercises.support import plan
from tests.support import FrozenClock, make_user


async def test_a_trainers_agenda_holds_each_drill_the_rule_in_paris_time(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    async with db.transaction() as session:
        monthly = await plan(session, now=clock.now(), rrule="FREQ=MONTHLY;BYDAY=1TU;BYHOUR=9")
        once = await plan(session, now=clock.now(), starts_at=clock.now() + timedelta(days=2))
    answer = await client.get(agenda_path(settings, trainer.id))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    found: list[Any] = Calendar.from_ical(answer.content).walk("VEVENT")
    events = {str(e["uid"]): e for e in found}
    recurring = events[f"exercice-{monthly.id}@tocsin"]
    assert dict(recurring["rrule"]) == {"FREQ": ["MONTHLY"], "BYDAY": ["1TU"], "BYHOUR": [9]}
    assert str(recurring["dtstart"].dt.tzinfo) == "Europe/Paris"
    assert events[f"exercice-{once.id}@tocsin"]["dtstart"].dt == once.starts_at
    assert str(events[f"exercice-{once.id}@tocsin"]["summary"]).startswith("EXERCICE — ")


async def test_a_forged_or_foreign_agenda_address_answers_404(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    com = await make_user(db, clock, "com", "communicator")
    forged = agenda_path(settings, trainer.id).replace(f"/{trainer.id}-", f"/{com.id}-")
    for path in (forged, agenda_path(settings, com.id), "/exercices/agenda/1-abc.ics"):
        assert (await client.get(path)).status_code == 404
