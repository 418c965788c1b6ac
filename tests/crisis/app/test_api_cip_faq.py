"""Issue 20: the CIP's FAQ — four eyes, « à revoir » after an update, search as typed."""

from __future__ import annotations

import httpx

from crisis.app.db import Database
from tests.crisis.bulletin_support import published
from tests.crisis.cip.cip_support import ABBEVILLE, CipWorld, cip_world, opened
from tests.support import FrozenClock

SCHOOLS = {
    "question": "Les écoles d'Abbeville sont-elles fermées ?",
    "answer": "Oui, toutes les écoles d'Abbeville sont fermées jusqu'à lundi.",
    "communes": [ABBEVILLE],
}


async def _written(
    client: httpx.AsyncClient, world: CipWorld, **changes: object
) -> dict[str, object]:
    answer = await client.post(
        f"{world.base}/faq", json=SCHOOLS | changes, headers=world.com.headers
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


async def test_a_faq_answer_needs_a_second_person_to_validate_it_before_operators_see_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    entry = await _written(client, world)
    assert entry["status"] == "pending"
    by_operator = await client.post(f"{world.base}/faq", json=SCHOOLS, headers=world.head.headers)
    assert by_operator.status_code == 403
    seen = (await client.get(f"{world.base}/faq", headers=world.head.headers)).json()["items"]
    assert seen == []
    own = await client.post(f"{world.base}/faq/{entry['id']}/approve", headers=world.com.headers)
    assert own.status_code == 403
    dual = await _user_with_both_roles(client, db, clock, world)
    mine = await _written(client, dual)
    self_approved = await client.post(
        f"{world.base}/faq/{mine['id']}/approve", headers=dual.com.headers
    )
    assert self_approved.status_code == 409 and self_approved.json()["error"]["code"] == "four_eyes"
    approved = await client.post(
        f"{world.base}/faq/{entry['id']}/approve", headers=world.validator.headers
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    seen = (await client.get(f"{world.base}/faq", headers=world.head.headers)).json()["items"]
    assert [i["id"] for i in seen] == [entry["id"]]


async def _user_with_both_roles(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, world: CipWorld
) -> CipWorld:
    from dataclasses import replace

    from tests.support import make_user

    both = await make_user(db, clock, "com-valideur", "communicator", "validator")
    return replace(world, com=both)


async def test_a_call_answered_from_a_faq_entry_not_yet_validated_is_refused(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    entry = await _written(client, world)
    call = {
        "received_at": clock.now().isoformat(),
        "topic": "schools",
        "question": "École fermée ?",
        "faq_id": entry["id"],
    }
    answer = await client.post(f"{world.base}/calls", json=call, headers=world.operators[0].headers)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "faq_not_approved"


async def test_an_update_of_the_source_bulletin_flags_its_faq_answer_to_review(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    source = await published(db, clock.now(), crisis_id=world.crisis_id)
    entry = await _written(client, world, source_bulletin_id=source)
    await client.post(f"{world.base}/faq/{entry['id']}/approve", headers=world.validator.headers)
    items = (await client.get(f"{world.base}/faq", headers=world.head.headers)).json()["items"]
    assert items[0]["to_review"] is False
    update = await published(
        db, clock.now(), crisis_id=world.crisis_id, references=[source], msg_type="update"
    )
    items = (await client.get(f"{world.base}/faq", headers=world.head.headers)).json()["items"]
    assert items[0]["to_review"] is True and items[0]["superseded_by"] == update


async def test_a_faq_source_must_be_a_published_bulletin_of_the_crisis(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    answer = await client.post(
        f"{world.base}/faq", json=SCHOOLS | {"source_bulletin_id": 999}, headers=world.com.headers
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "source_not_published"


async def test_the_faq_search_ignores_accents_and_case_and_finds_communes_by_name(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    water = {"question": "L'eau est-elle potable ?", "answer": "Oui, l'eau reste potable."}
    for body in (SCHOOLS, water):
        entry = await _written(client, world, **body)
        await client.post(
            f"{world.base}/faq/{entry['id']}/approve", headers=world.validator.headers
        )

    async def found(q: str) -> list[str]:
        answer = await client.get(f"{world.base}/faq", params={"q": q}, headers=world.head.headers)
        return [str(i["question"])[:10] for i in answer.json()["items"]]

    assert await found("ECOLE") == ["Les écoles"]
    assert await found("abbeville fermees") == ["Les écoles"]
    assert await found("POTABLE") == ["L'eau est-"]
    assert await found("") == ["Les écoles", "L'eau est-"]
    assert await found("amiens") == []
