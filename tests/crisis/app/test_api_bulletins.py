"""The bulletin API as CONTRACT §3 and §5 describe it."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from crisis import journal
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.dispatch.outbox import Delivery
from tests.crisis.app.web_session import csrf_of, log_in
from tests.crisis.bulletin_support import ABBEVILLE, BODY, TITLE, load_directory
from tests.support import FrozenClock, TestUser, make_user


@pytest.fixture
async def client(
    settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(
        update={"public_accounts": {"x": "@prefet80"}, "base_url": "https://tocsin.test"}
    )
    app = create_app(configured, clock=clock, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


NEW = {
    "title": TITLE,
    "body": BODY,
    "audiences": ["officials", "media", "public"],
    "channels": ["email", "sms", "x"],
}


async def _setup(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> tuple[int, TestUser, TestUser]:
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    validator = await make_user(db, clock, "valideur", "validator")
    await load_directory(db, clock.now())
    crisis = await client.post(
        "/api/v1/crises",
        json={"title": "Crue", "kind": "crue", "mode": "real", "communes": [ABBEVILLE]},
        headers=prefect.headers,
    )
    assert crisis.status_code == 201, crisis.text
    return crisis.json()["id"], com, validator


async def _approved(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> tuple[int, TestUser]:
    crisis_id, com, validator = await _setup(client, db, clock)
    created = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins", json=NEW, headers=com.headers
    )
    bulletin_id = created.json()["id"]
    assert (
        await client.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=com.headers)
    ).status_code == 200
    approved = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/approve", headers=validator.headers
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    return bulletin_id, com


async def test_creating_a_bulletin_answers_201_with_its_id_renderings_and_content_hash(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com, _ = await _setup(client, db, clock)
    created = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins",
        json=NEW,
        headers=com.headers | {"Idempotency-Key": "k1"},
    )
    assert created.status_code == 201
    body = created.json()
    assert body["id"] and body["status"] == "draft" and len(body["content_hash"]) == 64
    assert body["communes"] == [ABBEVILLE]
    assert set(body["renderings"]) == {"email", "sms", "x", "public_page"}
    assert body["renderings"]["x"]["text"].endswith(f"/public/bulletins/{body['public_id']}")
    again = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins",
        json=NEW,
        headers=com.headers | {"Idempotency-Key": "k1"},
    )
    assert again.json()["id"] == body["id"]
    listed = await client.get(f"/api/v1/crises/{crisis_id}/bulletins", headers=com.headers)
    assert [b["id"] for b in listed.json()["items"]] == [body["id"]]


async def test_publishing_twice_with_the_same_key_is_harmless_and_writes_the_deliveries_once(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, com = await _approved(client, db, clock)
    headers = com.headers | {"Idempotency-Key": "publish-1"}
    first = await client.post(f"/api/v1/bulletins/{bulletin_id}/publish", headers=headers)
    second = await client.post(f"/api/v1/bulletins/{bulletin_id}/publish", headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and first.json()["status"] == "published"
    tracked = (
        await client.get(f"/api/v1/bulletins/{bulletin_id}/deliveries", headers=com.headers)
    ).json()
    assert tracked["total"] == first.json()["publication"]["deliveries"] == 7
    assert tracked["counts"] == {"pending": 5, "to_call": 1, "sent": 1}
    assert tracked["by_audience"] == {
        "officials": {"pending": 3, "to_call": 1},
        "media": {"pending": 1},
        "public": {"pending": 1, "sent": 1},
    }
    without_key = await client.post(f"/api/v1/bulletins/{bulletin_id}/publish", headers=com.headers)
    assert without_key.status_code == 409
    assert without_key.json()["error"]["code"] == "already_published"


async def test_a_submit_and_an_approval_sent_again_under_their_key_get_their_first_answer(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com, validator = await _setup(client, db, clock)
    created = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins", json=NEW, headers=com.headers
    )
    bulletin = f"/api/v1/bulletins/{created.json()['id']}"
    answers = []
    for path, user, key in [("submit", com, "s-1"), ("approve", validator, "a-1")]:
        for _ in range(2):  # the first answer lost: the client sends the step again
            headers = user.headers | {"Idempotency-Key": key}
            answers.append(await client.post(f"{bulletin}/{path}", headers=headers))
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert [a.headers.get("Idempotent-Replayed") for a in answers] == [None, "true"] * 2
    assert answers[3].json() == answers[2].json() and answers[3].json()["status"] == "approved"
    unkeyed = await client.post(f"{bulletin}/approve", headers=validator.headers)
    assert unkeyed.status_code == 409 and unkeyed.json()["error"]["code"] == "not_submitted"


async def test_deliveries_filter_by_status_and_audience_and_paginate(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, com = await _approved(client, db, clock)
    await client.post(f"/api/v1/bulletins/{bulletin_id}/publish", headers=com.headers)
    url = f"/api/v1/bulletins/{bulletin_id}/deliveries"
    officials = (
        await client.get(url, params={"audience": "officials"}, headers=com.headers)
    ).json()
    assert officials["counts"] == {"pending": 3, "to_call": 1} and len(officials["items"]) == 4
    page = (await client.get(url, params={"limit": 2, "offset": 2}, headers=com.headers)).json()
    assert len(page["items"]) == 2 and page["offset"] == 2
    to_call = (await client.get(url, params={"status": "to_call"}, headers=com.headers)).json()
    (item,) = to_call["items"]
    assert item["channel"] == "phone" and item["address"] == "+33353010001"
    bad = await client.get(url, params={"status": "lost"}, headers=com.headers)
    assert bad.status_code == 422


async def test_an_operator_confirms_a_to_call_delivery_by_phone(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, com = await _approved(client, db, clock)
    await client.post(f"/api/v1/bulletins/{bulletin_id}/publish", headers=com.headers)
    operator = await make_user(db, clock, "operateur", "operator")
    url = f"/api/v1/bulletins/{bulletin_id}/deliveries"
    (item,) = (await client.get(url, params={"status": "to_call"}, headers=com.headers)).json()[
        "items"
    ]
    confirmed = await client.post(
        f"/api/v1/deliveries/{item['id']}/confirm",
        json={"method": "phone", "note": "Joint sur son portable."},
        headers=operator.headers,
    )
    assert confirmed.status_code == 200
    assert (
        confirmed.json()["status"] == "confirmed" and confirmed.json()["confirm_method"] == "phone"
    )
    tracked = (await client.get(url, headers=com.headers)).json()
    assert tracked["confirmed_by"] == {"phone": 1}
    twice = await client.post(
        f"/api/v1/deliveries/{item['id']}/confirm",
        json={"method": "phone"},
        headers=operator.headers,
    )
    assert twice.status_code == 409


async def test_the_four_eyes_rule_and_the_roles_answer_403_and_are_journaled(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com, validator = await _setup(client, db, clock)
    both = await make_user(db, clock, "com-valideur", "communicator", "validator")
    created = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins", json=NEW, headers=both.headers
    )
    bulletin_id = created.json()["id"]
    await client.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=both.headers)
    own = await client.post(f"/api/v1/bulletins/{bulletin_id}/approve", headers=both.headers)
    assert own.status_code == 403 and own.json()["error"]["code"] == "own_bulletin"
    publish = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/publish", headers=validator.headers
    )
    assert publish.status_code == 403
    unapproved = await client.post(f"/api/v1/bulletins/{bulletin_id}/publish", headers=com.headers)
    assert unapproved.status_code == 409 and unapproved.json()["error"]["code"] == "not_approved"
    async with db.read() as session:
        refusals = [e for e in await journal.recent(session, limit=10) if e.action == "refused"]
    assert len(refusals) == 3


async def test_submit_answers_422_with_one_entry_per_problem(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com, _ = await _setup(client, db, clock)
    created = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins",
        json=NEW | {"title": "Information", "body": "Bonjour."},
        headers=com.headers,
    )
    refused = await client.post(
        f"/api/v1/bulletins/{created.json()['id']}/submit", headers=com.headers
    )
    assert refused.status_code == 422
    codes = [d["code"] for d in refused.json()["error"]["details"]]
    assert codes == [
        "missing_what",
        "missing_where",
        "missing_instructions",
        "missing_more_info",
        "missing_next_update",
    ]


async def test_bad_input_is_refused_before_anything_is_written(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com, _ = await _setup(client, db, clock)
    url = f"/api/v1/crises/{crisis_id}/bulletins"
    empty = await client.post(url, json=NEW | {"audiences": []}, headers=com.headers)
    assert empty.status_code == 422 and empty.json()["error"]["details"][0]["code"] == "no_audience"
    mastodon = await client.post(url, json=NEW | {"channels": ["mastodon"]}, headers=com.headers)
    assert mastodon.json()["error"]["details"][0]["code"] == "channel_not_configured"
    unknown = await client.post(url, json=NEW | {"references": [404]}, headers=com.headers)
    assert unknown.json()["error"]["details"][0]["code"] == "unknown_references"
    extra = await client.post(url, json=NEW | {"priority": "high"}, headers=com.headers)
    assert extra.status_code == 422
    listed = await client.get(url, headers=com.headers)
    assert listed.json()["items"] == []


async def test_the_composer_page_offers_the_playbook_templates_filled_from_the_crisis(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com, _ = await _setup(client, db, clock)
    await log_in(client, "com", com.password)
    page = await client.get(
        f"/evenements/{crisis_id}/communiques/nouveau",
        params={"modele": "premiere-information-public"},
    )
    assert page.status_code == 200
    assert "Première information — public" in page.text
    assert "Communes concernées : Abbeville" in page.text
    assert "[à compléter : Situation" not in page.text  # the prefect's own words: « Crue. »
    assert "Crue." in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "title": TITLE,
        "body": BODY,
        "audiences": ["officials", "public"],
        "channels": ["email", "x"],
        "strategy": "all",
    }
    created = await client.post(f"/evenements/{crisis_id}/communiques/nouveau", data=form)
    assert created.status_code == 303
    bulletin_page = await client.get(created.headers["location"])
    assert "Soumettre à validation" in bulletin_page.text
    assert "Valider le communiqué" not in bulletin_page.text


async def test_the_public_page_shows_a_published_bulletin_without_login(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, com = await _approved(client, db, clock)
    before = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=com.headers)
    public_id = before.json()["public_id"]
    assert before.json()["public_url"] is None
    assert (await client.get(f"/public/bulletins/{public_id}")).status_code == 404
    await client.post(f"/api/v1/bulletins/{bulletin_id}/publish", headers=com.headers)
    after = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=com.headers)
    assert after.json()["public_url"].endswith(f"/public/bulletins/{public_id}")
    page = await client.get(f"/public/bulletins/{public_id}")
    assert page.status_code == 200 and TITLE in page.text and "Consignes" in page.text


async def test_a_recipient_named_like_a_formula_comes_out_of_the_deliveries_csv_as_text(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, com = await _approved(client, db, clock)
    published = await client.post(f"/api/v1/bulletins/{bulletin_id}/publish", headers=com.headers)
    assert published.status_code == 200, published.text
    attack = '=HYPERLINK("https://evil.test";"Cliquez")'
    async with db.transaction() as session:
        await session.execute(sa.update(Delivery).values(recipient_name=attack))
    exported = await client.get(f"/communiques/{bulletin_id}/envois.csv", headers=com.headers)
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.text)))
    names = {row[rows[0].index("recipient_name")] for row in rows[1:]}
    assert names == {"'" + attack}
    assert not [c for row in rows[1:] for c in row if c.startswith(("=", "+", "-", "@"))]
