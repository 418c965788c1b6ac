"""Issue 20 item 4: written requests answered from the API by e-mail through the dispatcher
(to a real SMTP server, aiosmtpd), late ones flagged by the clock, bad answers refused."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from channels.config import ChannelsConfig
from channels.sandbox import Sandbox
from crisis.app.db import Database
from crisis.app.dispatch import dispatcher_from_config
from tests.crisis.cip.cip_support import CipWorld, cip_world, opened, summary_texts
from tests.crisis.cip.request_support import CITIZEN, received
from tests.support import FrozenClock


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def _dispatch(db: Database, clock: FrozenClock, *, real: Sandbox, exercise: Sandbox) -> None:
    worker = dispatcher_from_config(
        db=db,
        channels=ChannelsConfig(smtp=real.config().smtp),
        exercise_channels=ChannelsConfig(smtp=exercise.config().smtp),
        rng=random.Random(1),
    )
    await worker.run(clock.now())
    await worker.aclose()


async def _answer(
    client: httpx.AsyncClient, world: CipWorld, request_id: int, text: str, *, who: int = 0
) -> httpx.Response:
    return await client.post(
        f"{world.base}/requests/{request_id}/answer",
        json={"answer": text},
        headers=world.operators[who].headers,
    )


async def _open_world(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, *, mode: str = "real"
) -> CipWorld:
    world = await cip_world(client, db, clock)
    if mode == "exercise":
        body = {"title": "Exercice crue", "kind": "crue", "mode": "exercise", "communes": ["80001"]}
        created = await client.post("/api/v1/crises", json=body, headers=world.prefect.headers)
        assert created.status_code == 201, created.text
        world.crisis_id = created.json()["id"]
    await opened(client, world)
    return world


async def test_an_operator_answers_a_request_and_the_mail_leaves_through_the_dispatcher(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    world = await _open_world(client, db, clock)
    request_id = await received(db, clock, crisis_id=world.crisis_id)
    clock.advance(minutes=40)
    taken = await client.post(
        f"{world.base}/requests/{request_id}/take", headers=world.operators[0].headers
    )
    assert taken.status_code == 200 and taken.json()["status"] == "assigned"
    answer = await _answer(client, world, request_id, "La route rouvre demain à 8 h.")
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["status"] == "answered" and view["answered_by"] == "op1"
    assert view["overdue"] is False
    await _dispatch(db, clock, real=sandbox, exercise=sandbox)
    [mail] = sandbox.smtp.state.received
    assert mail.recipient == CITIZEN
    assert mail.subject == f"Re: Route de Pont-Rémy [CIP-{world.crisis_id}]"
    assert mail.text.startswith("La route rouvre demain à 8 h.")
    assert "> La route de Pont-Rémy est-elle rouverte ?" in mail.text
    listing = (await client.get(f"{world.base}/requests", headers=world.com.headers)).json()
    assert listing["figures"] == {
        "received": 1,
        "answered": 1,
        "open": 0,
        "overdue": 0,
        "open_overdue": 0,
        "median_response_minutes": 40,
    }
    journal = await client.get(
        f"/api/v1/crises/{world.crisis_id}/journal", headers=world.prefect.headers
    )
    actions = [e["action"] for e in journal.json()["items"]]
    assert {"cip.request_assigned", "cip.request_answered"} <= set(actions)


async def test_an_exercise_cip_answers_only_through_the_exercise_channels(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    world = await _open_world(client, db, clock, mode="exercise")
    request_id = await received(db, clock, crisis_id=world.crisis_id)
    assert (await _answer(client, world, request_id, "Exercice : réponse.")).status_code == 200
    async with Sandbox() as exercise:
        await _dispatch(db, clock, real=sandbox, exercise=exercise)
        [mail] = exercise.smtp.state.received
    assert sandbox.smtp.state.received == []
    assert mail.subject.startswith("EXERCICE EXERCICE EXERCICE")


async def test_a_request_unanswered_past_its_deadline_is_overdue_and_counted(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await _open_world(client, db, clock)
    late = await received(db, clock, crisis_id=world.crisis_id)
    clock.advance(hours=23, minutes=59)
    fresh = await received(db, clock, crisis_id=world.crisis_id, subject="Écoles")
    url = f"{world.base}/requests"
    before = (await client.get(url, headers=world.prefect.headers)).json()
    assert [r["status"] for r in before["items"]] == ["new", "new"]
    clock.advance(minutes=2)
    after = (await client.get(url, headers=world.prefect.headers)).json()
    statuses = {r["id"]: r["status"] for r in after["items"]}
    assert statuses == {late: "overdue", fresh: "new"}
    assert after["figures"]["open_overdue"] == 1 and after["figures"]["open"] == 2
    assert (await _answer(client, world, late, "Réponse tardive.")).json()["overdue"] is True
    again = (await client.get(url, headers=world.prefect.headers)).json()["figures"]
    assert again["overdue"] == 1 and again["open_overdue"] == 0 and again["answered"] == 1


async def _refused(
    client: httpx.AsyncClient, world: CipWorld, request_id: int, text: str, **kw: Any
) -> tuple[int, str]:
    answer = await _answer(client, world, request_id, text, **kw)
    return answer.status_code, answer.json()["error"]["code"]


async def test_an_empty_answer_a_second_answer_and_another_operators_request_are_refused(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, sandbox: Sandbox
) -> None:
    world = await _open_world(client, db, clock)
    request_id = await received(db, clock, crisis_id=world.crisis_id)
    assert await _refused(client, world, request_id, "  ") == (422, "answer_missing")
    taken = await client.post(
        f"{world.base}/requests/{request_id}/take", headers=world.operators[1].headers
    )
    assert taken.status_code == 200
    refused = await _refused(client, world, request_id, "Réponse.", who=0)
    assert refused == (409, "request_assigned_elsewhere")
    assert (await _answer(client, world, request_id, "Réponse.", who=1)).status_code == 200
    again = await _refused(client, world, request_id, "Encore.", who=1)
    assert again == (409, "request_already_answered")
    not_in_post = await _refused(client, world, request_id, "Réponse.", who=2)
    assert not_in_post[0] == 409
    await _dispatch(db, clock, real=sandbox, exercise=sandbox)
    assert len(sandbox.smtp.state.received) == 1  # one answer, however many attempts
    missing = await _answer(client, world, 999, "Réponse.")
    assert missing.status_code == 404
    journal = await client.get(
        f"/api/v1/crises/{world.crisis_id}/journal", headers=world.prefect.headers
    )
    refusals = [e for e in journal.json()["items"] if e["action"] == "refused"]
    assert len(refusals) >= 3


async def test_the_cip_report_in_the_crisis_summary_counts_the_written_requests(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await _open_world(client, db, clock)
    answered = await received(db, clock, crisis_id=world.crisis_id)
    await received(db, clock, crisis_id=world.crisis_id, subject="Écoles")
    clock.advance(minutes=30)
    assert (await _answer(client, world, answered, "La route est rouverte.")).status_code == 200
    clock.advance(hours=30)  # the other one, unanswered, is now late
    page, pdf = await summary_texts(client, world)
    line = "2 reçue(s), 1 répondue(s) (réponse médiane 30 min), 1 en retard, 1 restée(s) ouverte(s)"
    assert "Demandes écrites" in page and line in page
    assert line in pdf
