"""Issue 20: the CIP through the API — order, staffing, opening (ES50), calls, close."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from crisis import journal
from crisis.app.db import Database
from tests.crisis.cip.cip_support import (
    ABBEVILLE,
    NUMBER,
    CipWorld,
    cip_world,
    opened,
    ordered,
    summary_texts,
)
from tests.support import FrozenClock


async def _count(db: Database, table: str) -> int:
    async with db.read() as session:
        return int((await session.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def _refusals(db: Database) -> list[dict[str, Any]]:
    import json

    async with db.read() as session:
        entries = await journal.recent(session, limit=50)
    return [json.loads(e.payload) for e in entries if e.action == "refused"]


def _call(clock: FrozenClock, **changes: Any) -> dict[str, Any]:
    received = clock.now() - timedelta(minutes=3)
    body: dict[str, Any] = {
        "received_at": received.isoformat(),
        "answered_at": (received + timedelta(seconds=40)).isoformat(),
        "ended_at": (received + timedelta(minutes=2)).isoformat(),
        "commune": ABBEVILLE,
        "topic": "schools",
        "question": "Les écoles d'Abbeville sont-elles ouvertes demain ?",
        "answer": "Fermées jusqu'à nouvel ordre.",
    }
    return body | changes


async def test_the_prefect_orders_the_cip_and_es50_is_met_when_it_opens_with_its_staff(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    cip = (await ordered(client, world)).json()
    assert cip["status"] == "ordered" and cip["number"] == "+33800100200"
    assert cip["number_display"] == "0 800 10 02 00"
    assert cip["missing"] == {"head": 1, "operator": 2}
    clocks = (
        await client.get(f"/api/v1/crises/{world.crisis_id}/clocks", headers=world.com.headers)
    ).json()
    es50 = next(c for c in clocks if c["code"] == "ES50")
    assert es50["status"] == "running" and es50["started_at"] == "2026-11-28T14:00:00+00:00"
    clock.advance(minutes=25)
    await opened(client, world, order=False)
    clocks = (
        await client.get(f"/api/v1/crises/{world.crisis_id}/clocks", headers=world.com.headers)
    ).json()
    es50 = next(c for c in clocks if c["code"] == "ES50")
    assert es50["status"] == "met" and es50["met_at"] == "2026-11-28T14:25:00+00:00"
    state = (await client.get(world.base, headers=world.operators[2].headers)).json()
    assert state["status"] == "open" and state["missing"] == {}
    assert sorted(o["role"] for o in state["operators"]) == ["head", "operator", "operator"]
    actions = [e.action for e in await _journal(db, world)]
    assert actions[-6:] == [
        "cip.ordered",
        "cip.nobody_on_duty",  # no CIP on-call roster in this world: the journal says so
        "cip.checked_in",
        "cip.checked_in",
        "cip.checked_in",
        "cip.opened",
    ]


async def _journal(db: Database, world: CipWorld) -> list[journal.JournalEntry]:
    async with db.read() as session:
        entries = await journal.for_crisis(session, crisis_id=world.crisis_id)
    return sorted(entries, key=lambda e: e.id or 0)


async def test_an_invalid_number_is_refused_with_its_reason_and_nothing_is_written_but_the_refusal(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    for number in ("12345", "+44 20 7946 0958", ""):
        answer = await client.post(
            world.base, json={"number": number}, headers=world.prefect.headers
        )
        assert answer.status_code == 422, answer.text
        assert (
            "Numéro" in answer.json()["error"]["message"]
            or "Indiquez" in answer.json()["error"]["message"]
        )
    assert await _count(db, "cip") == 0
    assert await _count(db, "clock") == 0
    assert [r["code"] for r in await _refusals(db)] == [
        "number_missing",
        "number_invalid",
        "number_invalid",
    ]


async def test_a_cip_ordered_twice_is_refused_and_only_the_prefect_may_order_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    as_operator = await client.post(world.base, json={"number": NUMBER}, headers=world.head.headers)
    assert as_operator.status_code == 403
    await ordered(client, world)
    again = await client.post(
        world.base, json={"number": "03 22 97 80 80"}, headers=world.prefect.headers
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "cip_already_ordered"
    assert "0 800 10 02 00" in again.json()["error"]["message"]
    assert await _count(db, "cip") == 1
    assert [r["code"] for r in await _refusals(db)][:2] == ["cip_already_ordered", "forbidden_role"]


async def test_an_operator_checking_in_twice_and_an_opening_below_the_minimum_are_refused(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await ordered(client, world)
    first = await client.post(
        f"{world.base}/operators", json={"role": "head"}, headers=world.head.headers
    )
    assert first.status_code == 201
    twice = await client.post(
        f"{world.base}/operators", json={"role": "operator"}, headers=world.head.headers
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_checked_in"
    early = await client.post(f"{world.base}/open", headers=world.head.headers)
    assert early.status_code == 409
    assert (
        early.json()["error"]["message"]
        == "Effectif minimal non atteint : il manque 2 × Opérateur."
    )
    not_head = await client.post(f"{world.base}/open", headers=world.operators[0].headers)
    assert not_head.status_code == 403
    assert await _count(db, "cip_shift") == 1
    codes = [r["code"] for r in await _refusals(db)]
    assert codes[:3] == ["forbidden_role", "minimum_staffing_not_met", "already_checked_in"]


async def test_an_operator_checks_out_with_a_hand_over_note_and_may_check_in_again(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    shift = (await client.get(world.base, headers=world.head.headers)).json()["operators"][1]
    other = await client.request(
        "DELETE",
        f"{world.base}/operators/{shift['id']}",
        json={},
        headers=world.operators[2].headers,
    )
    assert other.status_code == 403
    note = "Rappeler Mme D. (Abbeville) après 18 h pour l'école."
    out = await client.request(
        "DELETE",
        f"{world.base}/operators/{shift['id']}",
        json={"handover_note": note},
        headers=world.operators[0].headers,
    )
    assert out.status_code == 200 and out.json()["handover_note"] == note
    again = await client.post(
        f"{world.base}/operators", json={"role": "operator"}, headers=world.operators[0].headers
    )
    assert again.status_code == 201
    state = (await client.get(world.base, headers=world.head.headers)).json()
    assert len(state["operators"]) == 3 and len(state["shifts"]) == 4


async def test_calls_are_logged_from_the_order_to_the_close_with_their_times_in_order(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    op = world.operators[0]
    before = await client.post(f"{world.base}/calls", json=_call(clock), headers=op.headers)
    assert before.status_code == 409 and before.json()["error"]["code"] == "cip_not_ordered"
    await opened(client, world)
    clock.advance(minutes=10)
    backwards = _call(clock, answered_at=(clock.now() - timedelta(minutes=5)).isoformat())
    refused = await client.post(f"{world.base}/calls", json=backwards, headers=op.headers)
    assert (
        refused.status_code == 422 and refused.json()["error"]["code"] == "answered_before_received"
    )
    no_number = await client.post(
        f"{world.base}/calls", json=_call(clock, follow_up=True), headers=op.headers
    )
    assert (
        no_number.status_code == 422
        and no_number.json()["error"]["code"] == "callback_number_missing"
    )
    logged = await client.post(
        f"{world.base}/calls",
        json=_call(clock, follow_up=True, callback_number="06 12 34 56 78"),
        headers=op.headers,
    )
    assert logged.status_code == 201, logged.text
    assert logged.json()["callback_number"] == "06 12 34 56 78"
    prefect_call = await client.post(
        f"{world.base}/calls", json=_call(clock), headers=world.com.headers
    )
    assert prefect_call.status_code == 403
    closed = await client.delete(world.base, headers=world.prefect.headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["operators"] == []
    after = await client.post(f"{world.base}/calls", json=_call(clock), headers=op.headers)
    assert after.status_code == 409 and after.json()["error"]["code"] == "cip_closed"
    assert await _count(db, "cip_call") == 1
    codes = [r["code"] for r in await _refusals(db)]
    assert codes[:2] == ["cip_closed", "forbidden_role"]
    assert "answered_before_received" in codes and "cip_not_ordered" in codes
    entries = await _journal(db, world)
    assert all("0612345678" not in e.payload and "+33612345678" not in e.payload for e in entries)


async def test_an_operator_not_in_post_may_not_log_a_call(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    answer = await client.post(
        f"{world.base}/calls", json=_call(clock), headers=world.operators[2].headers
    )
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "not_checked_in"


async def test_the_cabinet_reads_calls_per_hour_waiting_times_topics_and_questions_without_answer(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    clock.advance(hours=1)
    op = world.operators[0]
    for wait, topic, question in (
        (10, "schools", "Les écoles sont-elles ouvertes ?"),
        (30, "roads", "La D901 est-elle coupée ?"),
        (50, "roads", "La D901 est-elle coupée ?"),
        (120, "water", "L'eau du robinet est-elle potable ?"),
    ):
        received = clock.now() - timedelta(minutes=5)
        body = _call(
            clock,
            received_at=received.isoformat(),
            answered_at=(received + timedelta(seconds=wait)).isoformat(),
            topic=topic,
            question=question,
        )
        assert (
            await client.post(f"{world.base}/calls", json=body, headers=op.headers)
        ).status_code == 201
    figures = (await client.get(world.base, headers=world.com.headers)).json()["figures"]
    assert figures["calls"] == 4
    assert figures["per_hour"] == [{"hour": "15 h", "calls": 4}]
    assert (figures["wait_p50_s"], figures["wait_p90_s"]) == (30, 120)
    assert figures["topics"][0] == {"topic": "roads", "calls": 2}
    assert figures["communes"] == [{"commune": ABBEVILLE, "calls": 4}]
    assert figures["suggestions"][0]["question"] == "La D901 est-elle coupée ?"
    assert figures["suggestions"][0]["asked"] == 2


async def test_the_cip_report_joins_the_crisis_summary_page_and_its_pdf(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    clock.advance(minutes=10)
    for wait in (20, 45, 200):
        received = clock.now() - timedelta(minutes=5)
        body = _call(clock, answered_at=(received + timedelta(seconds=wait)).isoformat())
        body["received_at"] = received.isoformat()
        body["ended_at"] = None
        answer = await client.post(f"{world.base}/calls", json=body, headers=world.head.headers)
        assert answer.status_code == 201, answer.text
    assert (await client.delete(world.base, headers=world.prefect.headers)).status_code == 200
    page, text = await summary_texts(client, world)
    assert "numéro 0 800 10 02 00, ordonnée samedi 28 novembre à 15 h" in page
    assert "3 appel(s) ; attente médiane 45 s, 90 % sous 200 s" in page
    assert "moins de 30 s : 1 · 30 s à 1 min : 1 · 1 à 2 min : 0 · plus de 2 min : 1" in page
    assert "Appels à la CIP" in text and "Rappels restés à faire" in text


async def test_a_follow_up_done_leaves_the_open_follow_ups_and_cannot_be_done_twice(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    op = world.operators[0]
    body = _call(clock, follow_up=True, callback_number="03 22 97 80 80")
    call = (await client.post(f"{world.base}/calls", json=body, headers=op.headers)).json()
    assert (await client.get(world.base, headers=op.headers)).json()["figures"][
        "open_follow_ups"
    ] == 1
    done_path = f"{world.base}/calls/{call['id']}/follow-up/done"
    by_com = await client.post(done_path, headers=world.com.headers)
    assert by_com.status_code == 403
    done = await client.post(done_path, headers=op.headers)
    assert done.status_code == 200 and done.json()["callback_number"] == "03 22 97 80 80"
    again = await client.post(done_path, headers=op.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_follow_up_open"
    assert (await client.get(world.base, headers=op.headers)).json()["figures"][
        "open_follow_ups"
    ] == 0


async def test_the_crisis_reads_its_cip_track_as_an_independent_one(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    path = f"/api/v1/crises/{world.crisis_id}"

    async def track() -> str:
        return str((await client.get(path, headers=world.com.headers)).json()["tracks"]["cip"])

    assert await track() == "not_ordered"
    await opened(client, world)
    crisis = (await client.get(path, headers=world.com.headers)).json()
    assert crisis["tracks"] == {
        "open": True,
        "cell": "not_ordered",
        "cod": "not_activated",
        "cip": "open",
    }
    await client.delete(world.base, headers=world.prefect.headers)
    listed = (await client.get("/api/v1/crises", headers=world.com.headers)).json()["items"]
    assert listed[0]["tracks"]["cip"] == "closed"


async def test_reading_a_cip_not_ordered_answers_404_and_journals_nothing(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    answer = await client.get(world.base, headers=world.head.headers)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "cip_not_ordered"
    assert await _refusals(db) == []
