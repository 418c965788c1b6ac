"""`/api/v1/exercises/{id}/injects`: the trainer writes a crisis drill's scenario, releases an
inject by hand in a run and marks its expected action done; the report lists them."""

from __future__ import annotations

import httpx
from sqlmodel import func, select

from crisis.app.db import Database
from exercises.injects import Inject
from tests.crisis.app.test_api_exercises import _people, _users
from tests.exercises.support import crisis_drill_body as _crisis_drill
from tests.support import FrozenClock

CALL = {
    "offset_min": 15,
    "audience": "officials",
    "text": "Le maire d'Abbeville demande s'il faut évacuer l'école",
    "expected_action": "Rappeler le maire",
    "deadline_min": 10,
}


async def test_a_trainer_writes_edits_and_deletes_the_scenario_of_a_drill(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer, prefect, communicator = await _users(db, clock)
    people = await _people(db, clock)
    body = _crisis_drill(people) | {"injects": [CALL]}
    drill = (await client.post("/api/v1/exercises", json=body, headers=trainer.headers)).json()
    path = f"/api/v1/exercises/{drill['id']}/injects"
    [first] = drill["injects"]
    assert first["target_label"].startswith("tous les participants, en tant que")
    named = {"offset_min": 5, "contact": people[0], "channel": "sms", "text": "Appel du SDIS"}
    added = await client.post(path, json=named, headers=trainer.headers)
    assert added.status_code == 201, added.text
    assert added.json()["target_label"] == "Joueur0 Exercice"
    listed = (await client.get(path, headers=prefect.headers)).json()["items"]
    assert [i["offset_min"] for i in listed] == [5, 15]  # in the order they play
    assert listed[0]["target_label"] == "Joueur0 Exercice"
    changed = await client.put(
        f"{path}/{first['id']}", json=CALL | {"offset_min": 1}, headers=trainer.headers
    )
    assert changed.status_code == 200 and changed.json()["offset_min"] == 1
    refused = await client.post(path, json=named, headers=communicator.headers)
    assert refused.status_code == 403
    gone = await client.delete(f"{path}/{added.json()['id']}", headers=trainer.headers)
    assert gone.status_code == 200
    assert [
        i["offset_min"] for i in (await client.get(path, headers=trainer.headers)).json()["items"]
    ] == [1]


async def test_a_bad_inject_is_422_in_french_and_nothing_is_written(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer, _, _ = await _users(db, clock)
    people = await _people(db, clock)
    drill = (
        await client.post("/api/v1/exercises", json=_crisis_drill(people), headers=trainer.headers)
    ).json()
    path = f"/api/v1/exercises/{drill['id']}/injects"
    for bad in (
        CALL | {"audience": None},
        CALL | {"contact": 999999},
        CALL | {"channel": "x"},
        CALL | {"offset_min": -5},
        CALL | {"text": ""},
        CALL | {"expected_action": None},
    ):
        answer = await client.post(path, json=bad, headers=trainer.headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["message"]
    async with db.read() as session:
        assert (await session.exec(select(func.count()).select_from(Inject))).one() == 0


async def test_a_trainer_releases_an_inject_marks_it_done_and_the_report_lists_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer, prefect, _ = await _users(db, clock)
    people = await _people(db, clock)
    body = _crisis_drill(people) | {"injects": [CALL]}
    drill = (await client.post("/api/v1/exercises", json=body, headers=trainer.headers)).json()
    inject_id = drill["injects"][0]["id"]
    run_id = (
        await client.post(f"/api/v1/exercises/{drill['id']}/launch", headers=trainer.headers)
    ).json()["run_id"]
    run_path = f"/api/v1/exercises/{drill['id']}/runs/{run_id}/injects"
    early = await client.post(f"{run_path}/{inject_id}/done", headers=trainer.headers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "inject_not_played"
    clock.advance(minutes=2)
    released = await client.post(f"{run_path}/{inject_id}/release", headers=trainer.headers)
    assert released.status_code == 200, released.text
    assert released.json()["released_by"] == "formatrice"
    again = await client.post(f"{run_path}/{inject_id}/release", headers=trainer.headers)
    assert again.status_code == 409
    paused = await client.post(f"{run_path}/pause", headers=trainer.headers)
    assert paused.status_code == 200 and paused.json()["injects_paused_at"]
    clock.advance(minutes=3)
    done = await client.post(f"{run_path}/{inject_id}/done", headers=trainer.headers)
    assert done.status_code == 200 and done.json()["reaction"] == "done"
    report = (
        await client.get(
            f"/api/v1/exercises/{drill['id']}/runs/{run_id}/report", headers=prefect.headers
        )
    ).json()
    [line] = report["injects"]
    assert (line["reaction_label"], line["done_by"]) == ("Faite", "formatrice")
    assert report["injects_paused_at"] is not None
    actions = [t["action"] for t in report["timeline"]]
    assert "exercise.inject_released" in actions and "exercise.inject_done" in actions
