"""`/api/v1/exercises`: plan, list, launch, STOP EXERCICE, report; roles and refusals."""

from __future__ import annotations

import httpx
from sqlmodel import func, select

from crisis.app.db import Database
from exercises.programme import Drill
from tests.crisis.lifecycle_support import roster
from tests.exercises.support import crisis_drill_body, participants
from tests.support import FrozenClock, TestUser, make_user


async def _people(db: Database, clock: FrozenClock) -> list[int]:
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        return await participants(session, now=clock.now())


async def _users(db: Database, clock: FrozenClock) -> tuple[TestUser, TestUser, TestUser]:
    return (
        await make_user(db, clock, "formatrice", "trainer"),
        await make_user(db, clock, "prefet", "prefect"),
        await make_user(db, clock, "com", "communicator"),
    )


async def test_a_trainer_plans_launches_and_a_prefect_stops_a_drill(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer, prefect, _ = await _users(db, clock)
    people = await _people(db, clock)
    created = await client.post(
        "/api/v1/exercises", json=crisis_drill_body(people), headers=trainer.headers
    )
    assert created.status_code == 201, created.text
    drill = created.json()
    assert drill["next_run_at"] == "2027-03-15T09:00:00+00:00" and drill["runs"] == []
    listed = await client.get("/api/v1/exercises", headers=prefect.headers)
    assert [d["id"] for d in listed.json()["items"]] == [drill["id"]]
    launched = await client.post(f"/api/v1/exercises/{drill['id']}/launch", headers=trainer.headers)
    assert launched.status_code == 201, launched.text
    run_id, crisis_id = launched.json()["run_id"], launched.json()["crisis_id"]
    crisis = (await client.get(f"/api/v1/crises/{crisis_id}", headers=prefect.headers)).json()
    assert crisis["mode"] == "exercise"
    again = await client.post(f"/api/v1/exercises/{drill['id']}/launch", headers=trainer.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "drill_running"
    stopped = await client.post(
        f"/api/v1/exercises/{drill['id']}/runs/{run_id}/stop",
        json={"reason": "Événement réel en cours"},
        headers=prefect.headers,
    )
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    report = await client.get(
        f"/api/v1/exercises/{drill['id']}/runs/{run_id}/report", headers=trainer.headers
    )
    assert report.status_code == 200 and report.json()["run"]["stop_reason"].startswith("Événement")


async def test_other_roles_may_neither_plan_nor_launch_nor_read_the_programme(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer, prefect, com = await _users(db, clock)
    people = await _people(db, clock)
    drill = (
        await client.post(
            "/api/v1/exercises", json=crisis_drill_body(people), headers=trainer.headers
        )
    ).json()
    refused = [
        await client.post("/api/v1/exercises", json=crisis_drill_body(people), headers=com.headers),
        await client.post(
            "/api/v1/exercises", json=crisis_drill_body(people), headers=prefect.headers
        ),
        await client.get("/api/v1/exercises", headers=com.headers),
        await client.get(f"/api/v1/exercises/{drill['id']}", headers=com.headers),
        await client.post(f"/api/v1/exercises/{drill['id']}/launch", headers=com.headers),
    ]
    assert [r.status_code for r in refused] == [403] * 5


async def test_bad_drills_are_refused_in_french_with_nothing_written(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer, _, _ = await _users(db, clock)
    people = await _people(db, clock)
    bad = [
        crisis_drill_body(people) | {"rrule": "FREQ=MINUTELY"},
        crisis_drill_body([]),
        crisis_drill_body(people) | {"rrule": None, "starts_at": "2026-11-01T10:00:00+01:00"},
        crisis_drill_body(people) | {"injects": [{"offset_min": 5, "text": "Appel du maire"}]},
    ]
    for body in bad:
        answer = await client.post("/api/v1/exercises", json=body, headers=trainer.headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["message"]
    async with db.read() as session:
        assert (await session.exec(select(func.count()).select_from(Drill))).one() == 0
