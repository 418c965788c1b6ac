"""The X thread option through the JSON API, the preview, the composer and the bulletin page."""

from __future__ import annotations

import httpx
import pytest

from crisis.app.db import Database
from crisis.app.settings import Settings
from tests.crisis.app.web_session import csrf_of, log_in
from tests.crisis.bulletin_support import ABBEVILLE, BODY, TITLE
from tests.support import FrozenClock, TestUser, make_user

SENTENCE = "Restez à l'écart des berges et suivez les consignes des secours sur place."
THREAD = {
    "title": TITLE,
    "body": BODY + "\n" + " ".join([SENTENCE] * 5),
    "audiences": ["public"],
    "channels": ["x"],
    "x_thread": True,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with an X account for the public (the shared ``client`` uses it)."""
    return settings.model_copy(
        update={"public_accounts": {"x": "@prefet80"}, "base_url": "https://tocsin.test"}
    )


async def _crisis(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> tuple[int, TestUser]:
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    crisis = await client.post(
        "/api/v1/crises",
        json={"title": "Crue", "kind": "crue", "mode": "real", "communes": [ABBEVILLE]},
        headers=prefect.headers,
    )
    assert crisis.status_code == 201, crisis.text
    return crisis.json()["id"], com


async def test_the_api_keeps_the_option_and_shows_the_parts_with_their_counters(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com = await _crisis(client, db, clock)
    created = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins", json=THREAD, headers=com.headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["x_thread"] is True
    parts = body["renderings"]["x"]["parts"]
    assert len(parts) == 3
    assert all(0 < p["length"] <= 280 for p in parts)
    assert parts[2]["text"].endswith(f"/public/bulletins/{body['public_id']} 3/3")
    submitted = await client.post(f"/api/v1/bulletins/{body['id']}/submit", headers=com.headers)
    assert submitted.status_code == 200, submitted.text


async def test_a_thread_of_twelve_posts_is_refused_at_submission_with_a_french_reason(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com = await _crisis(client, db, clock)
    long = THREAD | {"body": BODY + "\n" + " ".join([SENTENCE] * 32)}
    created = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins", json=long, headers=com.headers
    )
    bulletin_id = created.json()["id"]
    assert created.json()["renderings"]["x"]["problems"][0]["code"] == "too_many_parts"
    refused = await client.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=com.headers)
    assert refused.status_code == 422
    [problem] = refused.json()["error"]["details"]
    assert problem["code"] == "too_many_parts" and problem["channel"] == "x"
    assert "le fil compterait 12 messages pour 10 au plus" in problem["message"]
    again = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=com.headers)
    assert again.json()["status"] == "draft"


async def test_without_the_option_a_long_x_variant_is_refused_and_the_thread_suggested(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com = await _crisis(client, db, clock)
    plain = THREAD | {"x_thread": False, "variants": {"x": " ".join([SENTENCE] * 4)}}
    created = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins", json=plain, headers=com.headers
    )
    refused = await client.post(
        f"/api/v1/bulletins/{created.json()['id']}/submit", headers=com.headers
    )
    assert refused.status_code == 422
    [problem] = refused.json()["error"]["details"]
    assert problem["code"] == "too_long" and "en fil" in problem["message"]


async def test_the_preview_splits_the_text_while_the_communicator_types(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com = await _crisis(client, db, clock)
    answer = await client.post(
        "/api/v1/bulletins/preview", json=THREAD | {"crisis_id": crisis_id}, headers=com.headers
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["renderings"]["x"]["parts"]) == 3


async def test_the_composer_offers_the_option_and_the_bulletin_page_shows_the_thread(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, com = await _crisis(client, db, clock)
    await log_in(client, "com", com.password)
    page = await client.get(f"/evenements/{crisis_id}/communiques/nouveau")
    assert "Publier sur X en fil (plusieurs messages) si le texte dépasse 280 caractères" in (
        page.text
    )
    form = {
        "csrf_token": csrf_of(page.text),
        "title": THREAD["title"],
        "body": THREAD["body"],
        "audiences": ["public"],
        "channels": ["x"],
        "x_thread": "1",
        "strategy": "all",
    }
    created = await client.post(f"/evenements/{crisis_id}/communiques/nouveau", data=form)
    assert created.status_code == 303, created.text
    shown = await client.get(created.headers["location"])
    assert "En fil (plusieurs messages numérotés)" in shown.text
    assert "fil de 3 messages" in shown.text
    assert "Message 2/3 — " in shown.text and "en réponse au précédent" in shown.text
    edit = await client.get(created.headers["location"] + "/modifier")
    assert 'id="x_thread" name="x_thread" value="1" checked' in edit.text
