"""Issue 15 item 3: a cell acknowledgement is a person's own, in a duty role they hold; only the
cabinet records a call answered by phone for someone else, and then it says so."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlmodel import select

from crisis import journal
from crisis.app.db import Database
from crisis.cell.paging import CellAcknowledgement
from tests.crisis.app.web_session import log_in
from tests.crisis.lifecycle_support import roster
from tests.support import FrozenClock, TestUser, make_user

CRUE = {"title": "Crue de la Somme", "kind": "crue", "mode": "real", "communes": ["80001"]}


async def _crisis(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> tuple[int, dict[str, TestUser], dict[str, int]]:
    users = {
        "prefet": await make_user(db, clock, "prefet", "prefect"),
        "com": await make_user(db, clock, "com", "communicator"),
        "valideur": await make_user(db, clock, "valideur", "validator"),
    }
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
    created = await client.post("/api/v1/crises", json=CRUE, headers=users["prefet"].headers)
    assert created.status_code == 201
    return created.json()["id"], users, people


async def _ack(
    client: httpx.AsyncClient, crisis_id: int, by: TestUser, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/crises/{crisis_id}/cell/acknowledgements", json=body, headers=by.headers
    )


async def _acks(db: Database) -> list[CellAcknowledgement]:
    async with db.read() as session:
        return list((await session.exec(select(CellAcknowledgement))).all())


async def _last_action(db: Database) -> str:
    async with db.read() as session:
        return (await journal.recent(session, limit=1))[0].action


async def test_a_staff_member_cannot_acknowledge_the_page_in_another_users_name(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, users, _ = await _crisis(client, db, clock)
    forged = await _ack(client, cid, users["com"], user=users["valideur"].id, role="validator")
    assert forged.status_code == 403, forged.text
    assert forged.json()["error"]["code"] == "forbidden_role"
    assert "réponse d'un autre membre" in forged.json()["error"]["message"]
    assert await _acks(db) == []
    assert await _last_action(db) == "refused"


async def test_a_staff_member_cannot_acknowledge_for_a_paged_contact(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, users, people = await _crisis(client, db, clock)
    forged = await _ack(client, cid, users["com"], contact=people["Valérie Val1"], role="validator")
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden_role"
    assert await _acks(db) == []


async def test_a_staff_member_cannot_acknowledge_a_duty_role_they_do_not_hold(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, users, _ = await _crisis(client, db, clock)
    refused = await _ack(client, cid, users["com"], role="validator")
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "duty_role_not_held"
    assert error["message"] == "Vous n'avez pas le rôle « Valideur d'astreinte » : réponse refusée."
    assert await _acks(db) == []
    assert await _last_action(db) == "refused"
    own = await _ack(client, cid, users["com"], role="communication")
    assert own.status_code == 201
    assert own.json() | {"id": 0, "at": ""} == {
        "id": 0,
        "crisis_id": cid,
        "role": "communication",
        "person": f"user:{users['com'].id}",
        "name": "com",
        "at": "",
        "via": "api",
        "recorded_by": "com",
        "on_behalf": False,
        "note": None,
    }


async def test_one_person_alone_cannot_make_es47_met_by_forging_the_others(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, users, people = await _crisis(client, db, clock)
    com = users["com"]
    assert (await _ack(client, cid, com, role="communication")).status_code == 201
    attempts = [
        {"role": "validator"},
        {"user": users["valideur"].id, "role": "validator"},
        {"contact": people["Valérie Val1"], "role": "validator"},
        {"contact": people["Paule Pref1"], "role": "prefect"},
    ]
    for body in attempts:
        assert (await _ack(client, cid, com, **body)).status_code == 403, body
    operational = await client.post(f"/api/v1/crises/{cid}/cell/operational", headers=com.headers)
    assert operational.status_code == 409
    assert operational.json()["error"]["code"] == "minimum_staffing_not_met"
    clocks = (await client.get(f"/api/v1/crises/{cid}/clocks", headers=com.headers)).json()
    assert clocks[0]["code"] == "ES47" and clocks[0]["status"] == "running"
    assert [a.person for a in await _acks(db)] == [f"user:{com.id}"]


async def test_the_cabinet_records_a_call_answered_by_phone_and_every_view_says_so(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, users, people = await _crisis(client, db, clock)
    prefect = users["prefet"]
    answer = await _ack(client, cid, prefect, contact=people["Valérie Val1"], role="validator")
    assert answer.status_code == 201, answer.text
    view = answer.json()
    assert (view["via"], view["recorded_by"], view["on_behalf"]) == ("phone", "prefet", True)
    assert view["note"] == "enregistré par prefet pour Valérie Val1"
    for_user = await _ack(client, cid, prefect, user=users["com"].id, role="communication")
    assert for_user.status_code == 201
    assert for_user.json()["note"] == "enregistré par prefet pour com"
    async with db.read() as session:
        entries = await journal.for_crisis(session, crisis_id=cid)
    notes = [json.loads(e.payload).get("note") for e in entries if e.action == "cell.acknowledged"]
    assert sorted(notes) == [
        "enregistré par prefet pour Valérie Val1",
        "enregistré par prefet pour com",
    ]
    await log_in(client, prefect.login, prefect.password)
    page = (await client.get(f"/evenements/{cid}")).text
    assert "(enregistré par prefet pour Valérie Val1)" in page
    assert "(enregistré par prefet pour com)" in page
    operational = await client.post(
        f"/api/v1/crises/{cid}/cell/operational", headers=prefect.headers
    )
    assert operational.status_code == 200


async def test_the_cabinet_cannot_record_a_duty_role_the_person_does_not_hold(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    cid, users, people = await _crisis(client, db, clock)
    prefect = users["prefet"]
    wrong = await _ack(client, cid, prefect, contact=people["Camille Com1"], role="validator")
    assert wrong.status_code == 403
    assert wrong.json()["error"] == {
        "code": "duty_role_not_held",
        "message": "Camille Com1 n'a pas le rôle « Valideur d'astreinte » : réponse refusée.",
        "details": {"role": "validator", "person": f"contact:{people['Camille Com1']}"},
    }
    other = await _ack(client, cid, prefect, user=users["com"].id, role="prefect")
    assert other.status_code == 403 and other.json()["error"]["code"] == "duty_role_not_held"
    assert await _acks(db) == []
