"""Four eyes through the API and the page: an editor is refused the review, and the page offers
them none (issue 15, item 1)."""

from __future__ import annotations

import httpx

from crisis.app.db import Database
from tests.crisis.app.web_session import log_in
from tests.crisis.bulletin_support import ABBEVILLE, BODY, TITLE
from tests.support import FrozenClock, TestUser, make_user

NEW = {
    "title": TITLE,
    "body": BODY,
    "audiences": ["officials", "media"],
    "channels": ["email", "sms"],
}
CHANGED = NEW | {"body": BODY.replace("la Somme déborde", "la Somme déborde fortement")}


async def _colleagues_draft(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> tuple[int, TestUser, TestUser]:
    """A draft by `com`; `cabinet` holds communicator and validator (a small cabinet)."""
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    cabinet = await make_user(db, clock, "cabinet", "communicator", "validator")
    crisis = await client.post(
        "/api/v1/crises",
        json={"title": "Crue", "kind": "crue", "mode": "real", "communes": [ABBEVILLE]},
        headers=prefect.headers,
    )
    created = await client.post(
        f"/api/v1/crises/{crisis.json()['id']}/bulletins", json=NEW, headers=com.headers
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], com, cabinet


async def test_an_editor_who_validates_cannot_approve_the_bulletin_through_the_api(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, com, cabinet = await _colleagues_draft(client, db, clock)
    edited = await client.patch(
        f"/api/v1/bulletins/{bulletin_id}", json=CHANGED, headers=cabinet.headers
    )
    assert edited.status_code == 200 and edited.json()["editors"] == ["cabinet"]
    submitted = await client.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=com.headers)
    assert submitted.status_code == 200, submitted.text
    approved = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/approve", headers=cabinet.headers
    )
    assert approved.status_code == 403
    assert approved.json()["error"]["code"] == "edited_bulletin"
    rejected = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/reject", json={"reason": "non"}, headers=cabinet.headers
    )
    assert rejected.status_code == 403
    now = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=com.headers)
    assert (now.json()["status"], now.json()["approved_by"]) == ("submitted", None)


async def test_an_api_edit_after_approval_sends_it_back_to_review_without_its_approval(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, com, cabinet = await _colleagues_draft(client, db, clock)
    await client.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=com.headers)
    approved = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/approve", headers=cabinet.headers
    )
    assert approved.json()["status"] == "approved"
    edited = await client.patch(
        f"/api/v1/bulletins/{bulletin_id}", json=CHANGED, headers=com.headers
    )
    view = edited.json()
    assert (view["status"], view["approved_by"], view["approved_hash"]) == ("submitted", None, None)
    published = await client.post(f"/api/v1/bulletins/{bulletin_id}/publish", headers=com.headers)
    assert published.status_code == 409


async def test_the_page_shows_the_editor_and_offers_them_no_validation(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, com, cabinet = await _colleagues_draft(client, db, clock)
    await client.patch(f"/api/v1/bulletins/{bulletin_id}", json=CHANGED, headers=cabinet.headers)
    await client.post(f"/api/v1/bulletins/{bulletin_id}/submit", headers=com.headers)
    await log_in(client, "cabinet", cabinet.password)
    page = await client.get(f"/communiques/{bulletin_id}")
    assert page.status_code == 200
    assert "Valider le communiqué" not in page.text and "Motif du rejet" not in page.text
    assert 'id="bulletin-editors">cabinet<' in page.text
    assert "Vous avez modifié ce texte" in page.text
