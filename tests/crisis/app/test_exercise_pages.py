"""The trainers' pages: the programme, and a drill's page with who answered and how fast."""

from __future__ import annotations

import httpx
from sqlmodel import select

from crisis.app.db import Database
from exercises.programme import Drill
from tests.crisis.app.web_session import log_in
from tests.exercises.support import launched_on_call, participants
from tests.support import FrozenClock, make_user


async def test_the_drill_page_shows_each_answer_time_and_the_silent_ones(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    on_call = await launched_on_call(client, db, clock)
    trainer, prefect, people = on_call.trainer, on_call.prefect, on_call.people
    drill, crisis_id = {"id": on_call.drill_id}, on_call.crisis_id
    clock.advance(minutes=4, seconds=30)
    answer = await client.post(
        f"/api/v1/crises/{crisis_id}/cell/acknowledgements",
        json={"contact": people["Camille Com1"], "role": "communication"},
        headers=prefect.headers,
    )
    assert answer.status_code == 201, answer.text
    page = await client.get(f"/exercices/{drill['id']}", headers=trainer.headers)
    assert page.status_code == 200
    assert "Camille Com1" in page.text and "(4 min 30 s)" in page.text
    assert "pas de réponse" in page.text and "STOP EXERCICE" in page.text
    programme = await client.get("/exercices", headers=prefect.headers)
    assert "Test d&#39;astreinte de nuit" in programme.text


async def test_the_programme_is_refused_to_a_communicator(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    com = await make_user(db, clock, "com", "communicator")
    assert (await client.get("/exercices", headers=com.headers)).status_code == 403


async def test_a_trainer_plans_a_drill_from_the_form_and_a_bad_one_is_refused_in_french(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    async with db.transaction() as session:
        people = await participants(session, now=clock.now(), count=2)
    csrf = await log_in(client, trainer.login, trainer.password)
    form = (await client.get("/exercices/nouveau")).text
    assert "Joueur0 Exercice" in form or "Exercice Joueur0" in form
    good = {
        "title": "Exercice crue de mars",
        "kind": "crisis",
        "playbook": "crue",
        "communes": "80001, 80021",
        "participants": [str(p) for p in people],
        "rrule": "FREQ=YEARLY;BYMONTH=3;BYDAY=1TU;BYHOUR=9",
        "csrf_token": csrf,
    }
    planned = await client.post("/exercices/nouveau", data=good)
    assert planned.status_code == 303 and planned.headers["location"].startswith("/exercices/")
    refused = await client.post("/exercices/nouveau", data=good | {"participants": []})
    assert refused.status_code == 422
    assert "au moins un participant aux exercices" in refused.text
    async with db.read() as session:
        assert len((await session.exec(select(Drill))).all()) == 1


async def test_the_planning_form_is_refused_to_a_prefect(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    assert (await client.get("/exercices/nouveau", headers=prefect.headers)).status_code == 403
