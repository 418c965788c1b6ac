"""The programme page's trends per kind: ES47/ES48 times of crisis exercises, answer rate and
median answer time of on-call tests, stale contacts found by reachability tests; each with its
chart (PNG), a text alternative and the data table."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from crisis.app.db import Database
from crisis.cell.clocks import Clock
from exercises import trends
from tests.crisis.lifecycle_support import add_contact
from tests.exercises.played import play
from tests.exercises.support import PREFECT, launched_on_call
from tests.support import FrozenClock, TestUser, make_user


async def _stop(client: httpx.AsyncClient, user: TestUser, drill_id: int, run_id: int) -> None:
    stopped = await client.post(
        f"/api/v1/exercises/{drill_id}/runs/{run_id}/stop",
        json={"reason": "Fin du scénario"},
        headers=user.headers,
    )
    assert stopped.status_code == 200, stopped.text


async def test_a_finished_crisis_exercise_plots_its_es47_and_es48_times(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    played = await play(client, db, clock)
    async with db.read() as session:
        assert (await trends.crisis(session)).points == []  # still running: not a trend point
    await _stop(client, played.trainer, played.drill_id, played.run_id)
    async with db.read() as session:
        [point] = (await trends.crisis(session)).points
        es48 = (await session.exec(select(Clock).where(Clock.code == "ES48"))).one()
    assert point.run_id == played.run_id
    assert point.values["ES47"] == 28.0 and point.notes["ES47"] == "tenu"
    assert point.values["ES48"] is None and point.notes["ES48"] == "non atteint"
    assert es48.met_at is None
    page = await client.get("/exercices", headers=played.trainer.headers)
    assert "Tendances par type d'exercice" in page.text
    assert 'src="/exercices/tendances/crisis.png"' in page.text and "28,0 (tenu)" in page.text
    assert "Aucune séance terminée pour l'instant." in page.text  # on-call, reachability
    chart = await client.get("/exercices/tendances/crisis.png", headers=played.prefect.headers)
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    empty = await client.get("/exercices/tendances/on_call.png", headers=played.prefect.headers)
    assert empty.status_code == 404
    unknown = await client.get("/exercices/tendances/autre.png", headers=played.prefect.headers)
    assert unknown.status_code == 404


async def test_an_on_call_test_plots_its_answer_rate_and_median_answer_time(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    on_call = await launched_on_call(client, db, clock)
    trainer, prefect, people = on_call.trainer, on_call.prefect, on_call.people
    drill_id, run_id, crisis_id = on_call.drill_id, on_call.run_id, on_call.crisis_id
    for minutes, name, role in (
        (4, "Camille Com1", "communication"),
        (4, "Valérie Val1", "validator"),
    ):
        clock.advance(minutes=minutes)
        answer = await client.post(
            f"/api/v1/crises/{crisis_id}/cell/acknowledgements",
            json={"contact": people[name], "role": role},
            headers=prefect.headers,
        )
        assert answer.status_code == 201, answer.text
    await _stop(client, trainer, drill_id, run_id)
    report = await client.get(
        f"/api/v1/exercises/{drill_id}/runs/{run_id}/report", headers=trainer.headers
    )
    lines = report.json()["answers"]
    times = sorted(a["answer_seconds"] for a in lines if a["answer_seconds"] is not None)
    async with db.read() as session:
        [point] = (await trends.on_call(session)).points
    assert len(times) == 2 and point.notes["paged"] == str(len(lines))
    assert point.values["rate"] == round(100 * 2 / len(lines), 1)
    assert point.values["p50"] == round((times[0] + times[1]) / 2 / 60, 1)


async def test_a_reachability_test_plots_the_stale_contacts_it_found(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    prefect = await make_user(db, clock, PREFECT.login, "prefect")
    async with db.transaction() as session:
        mayors = [
            await add_contact(session, name=f"Élu{i} Maire", audience="officials", now=clock.now())
            for i in range(2)
        ]
    body = {
        "title": "Joignabilité trimestrielle",
        "kind": "reachability",
        "participants": mayors,
        "starts_at": (clock.now() + timedelta(days=1)).isoformat(),
    }
    drill = (await client.post("/api/v1/exercises", json=body, headers=trainer.headers)).json()
    url = f"/api/v1/exercises/{drill['id']}"
    assert (await client.post(f"{url}/approve", headers=prefect.headers)).status_code == 200
    run_id = (await client.post(f"{url}/launch", headers=trainer.headers)).json()["run_id"]
    await _stop(client, trainer, drill["id"], run_id)
    async with db.read() as session:
        [point] = (await trends.reachability(session)).points
    assert point.values == {"stale": 2.0} and point.notes == {"officials": "2"}
