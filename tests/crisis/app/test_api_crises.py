from __future__ import annotations

import httpx

from crisis import journal
from crisis.app.db import Database
from tests.support import FrozenClock, make_user

CRUE = {"title": "Crue de la Somme", "kind": "crue", "mode": "real", "communes": ["80001", "80021"]}


async def test_a_prefect_declares_a_crisis_and_gets_it_back(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    created = await client.post("/api/v1/crises", json=CRUE, headers=prefect.headers)
    assert created.status_code == 201
    body = created.json()
    assert body["id"] and body["mode"] == "real" and body["communes"] == ["80001", "80021"]
    assert body["declared_at"] == "2026-11-28T14:00:00+00:00"
    listed = await client.get("/api/v1/crises", headers=prefect.headers)
    assert [c["id"] for c in listed.json()["items"]] == [body["id"]]
    one = await client.get(f"/api/v1/crises/{body['id']}", headers=prefect.headers)
    assert one.json()["title"] == "Crue de la Somme"


async def test_the_declaration_is_in_the_crisis_journal_with_its_hashes(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    crisis_id = (await client.post("/api/v1/crises", json=CRUE, headers=prefect.headers)).json()[
        "id"
    ]
    entries = (
        await client.get(f"/api/v1/crises/{crisis_id}/journal", headers=prefect.headers)
    ).json()
    # declaring orders the cell by default (activate_cell): nobody is on duty in this test;
    # the checklist's « order the cell » step ticks itself
    assert [e["action"] for e in entries["items"]] == [
        "crisis.declared",
        "cell.ordered",
        "cell.nobody_on_duty",
        "checklist.ticked",
    ]
    entry = entries["items"][0]
    assert entry["prev_hash"] == journal.GENESIS and len(entry["hash"]) == 64
    assert entry["actor"] == "prefet"


async def test_a_communicator_cannot_declare_and_the_refusal_is_journaled(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    communicator = await make_user(db, clock, "com", "communicator")
    refused = await client.post("/api/v1/crises", json=CRUE, headers=communicator.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden_role"
    async with db.read() as session:
        last = (await journal.recent(session, limit=1))[0]
    assert last.action == "refused" and last.actor == "com"
    listed = await client.get("/api/v1/crises", headers=communicator.headers)
    assert listed.json()["items"] == []


async def test_every_api_endpoint_refuses_a_missing_or_wrong_token(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    assert (await client.get("/api/v1/crises")).status_code == 401
    wrong = await client.get("/api/v1/crises", headers={"Authorization": "Bearer tcs_faux"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthenticated"


async def test_a_loop_of_bad_tokens_adds_nothing_to_the_journal_and_is_counted(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    async with db.read() as session:
        before = len(await journal.recent(session, limit=1000))
    for attempt in range(50):
        headers = {"Authorization": f"Bearer tcs_faux{attempt}"}
        assert (await client.get("/api/v1/crises", headers=headers)).status_code == 401
    async with db.read() as session:
        assert len(await journal.recent(session, limit=1000)) == before
    metrics = (await client.get("/metrics")).text
    assert 'tocsin_auth_refusals_total{reason="token"} 50.0' in metrics


async def test_a_revoked_token_no_longer_works(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    from crisis import api_tokens
    from crisis.actors import SYSTEM

    prefect = await make_user(db, clock, "prefet", "prefect")
    assert (await client.get("/api/v1/crises", headers=prefect.headers)).status_code == 200
    async with db.transaction() as session:
        await api_tokens.revoke_token(session, actor=SYSTEM, token_id=1, now=clock.now())
    assert (await client.get("/api/v1/crises", headers=prefect.headers)).status_code == 401


async def test_bad_input_is_refused_with_the_error_envelope_and_nothing_is_written(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    cases = [
        (CRUE | {"unexpected": 1}, 422, "validation_error"),
        (CRUE | {"mode": "drill"}, 422, "validation_error"),
        (CRUE | {"communes": ["99999"]}, 422, "unknown_communes"),
        (CRUE | {"communes": []}, 422, "validation_error"),
        (CRUE | {"kind": "Crue!"}, 422, "invalid_kind"),
        ({"title": "x"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        answer = await client.post("/api/v1/crises", json=body, headers=prefect.headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), body
        assert answer.json()["error"]["message"]
    malformed = await client.post(
        "/api/v1/crises",
        content=b"{not json",
        headers=prefect.headers | {"content-type": "application/json"},
    )
    assert malformed.status_code == 422
    assert (await client.get("/api/v1/crises", headers=prefect.headers)).json()["items"] == []


async def test_an_oversized_body_is_refused_with_413(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    huge = CRUE | {"title": "x" * 2_000_000}
    answer = await client.post("/api/v1/crises", json=huge, headers=prefect.headers)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "body_too_large"


async def test_the_same_idempotency_key_declares_only_once(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    headers = prefect.headers | {"Idempotency-Key": "double-clic-1"}
    first = await client.post("/api/v1/crises", json=CRUE, headers=headers)
    second = await client.post("/api/v1/crises", json=CRUE, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len((await client.get("/api/v1/crises", headers=prefect.headers)).json()["items"]) == 1
    reused = await client.post("/api/v1/crises", json=CRUE | {"title": "Autre"}, headers=headers)
    assert reused.status_code == 422


async def test_the_mode_of_a_crisis_cannot_be_changed(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    crisis_id = (
        await client.post(
            "/api/v1/crises", json=CRUE | {"mode": "exercise"}, headers=prefect.headers
        )
    ).json()["id"]
    for method in ("PUT", "PATCH"):
        answer = await client.request(
            method, f"/api/v1/crises/{crisis_id}", json={"mode": "real"}, headers=prefect.headers
        )
        assert answer.status_code == 405
    assert (await client.get(f"/api/v1/crises/{crisis_id}", headers=prefect.headers)).json()[
        "mode"
    ] == "exercise"


async def test_an_unknown_crisis_is_404(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    answer = await client.get("/api/v1/crises/4242", headers=prefect.headers)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "crisis_not_found"
