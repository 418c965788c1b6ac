"""Four eyes under concurrency (issue 22, item 2): two reviewers at the same instant, and an
edit racing an approval. On PostgreSQL the requests really run on two connections at once
(`asyncio.gather` over the in-process app); the bulletin row is taken `FOR UPDATE`.

An approval binds the text its reviewer saw: the page's form carries the content hash shown,
the API takes it as `content_hash`; a different text in the database refuses the approval
(409 `content_changed`), so nothing is ever published that its approver did not read.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import sqlalchemy as sa

from crisis import journal_verification
from crisis.app.db import Database
from crisis.journal import JournalEntry
from tests.crisis.app.web_session import csrf_of, log_in
from tests.crisis.bulletin_support import ABBEVILLE, BODY, TITLE
from tests.support import FrozenClock, TestUser, make_user

NEW = {"title": TITLE, "body": BODY, "audiences": ["officials", "media"]}
CHANGED = NEW | {"body": BODY.replace("ne vous engagez pas", "évacuez")}


async def _submitted(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    users: dict[str, TestUser] | None = None,
) -> tuple[int, dict[str, TestUser]]:
    """A bulletin by `com`, submitted; two validators and the prefect stand by."""
    users = users or {
        "prefet": await make_user(db, clock, "prefet", "prefect"),
        "com": await make_user(db, clock, "com", "communicator"),
        "v1": await make_user(db, clock, "valideur1", "validator"),
        "v2": await make_user(db, clock, "valideur2", "validator"),
    }
    body = {"title": "Crue", "kind": "crue", "mode": "real", "communes": [ABBEVILLE]}
    crisis = await client.post("/api/v1/crises", json=body, headers=users["prefet"].headers)
    created = await client.post(
        f"/api/v1/crises/{crisis.json()['id']}/bulletins", json=NEW, headers=users["com"].headers
    )
    assert created.status_code == 201, created.text
    bulletin_id = created.json()["id"]
    submit = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/submit", headers=users["com"].headers
    )
    assert submit.status_code == 200, submit.text
    return bulletin_id, users


async def _read_hash(client: httpx.AsyncClient, bulletin_id: int, reader: TestUser) -> str:
    seen = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=reader.headers)
    return str(seen.json()["content_hash"])


async def _approve(
    client: httpx.AsyncClient, bulletin_id: int, validator: TestUser, read_hash: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/bulletins/{bulletin_id}/approve",
        json={"content_hash": read_hash},
        headers=validator.headers,
    )


async def _actions(db: Database, bulletin_id: int) -> list[str]:
    async with db.read() as session:
        rows = (await session.execute(sa.select(JournalEntry))).scalars().all()
        assert (await journal_verification.verify(session)).ok
    return [row.action for row in rows if json.loads(row.payload).get("bulletin_id") == bulletin_id]


async def test_two_validators_approving_at_the_same_instant_record_exactly_one_approval(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, users = await _submitted(client, db, clock)
    url = f"/api/v1/bulletins/{bulletin_id}/approve"
    answers = await asyncio.gather(
        client.post(url, headers=users["v1"].headers),
        client.post(url, headers=users["v2"].headers),
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.json()["error"]["code"] == "not_submitted"
    state = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=users["com"].headers)
    assert state.json()["status"] == "approved"
    assert state.json()["approved_by"] in ("valideur1", "valideur2")
    assert (await _actions(db, bulletin_id)).count("bulletin.approved") == 1


async def test_an_approval_of_a_text_changed_since_the_validator_read_it_is_refused(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, users = await _submitted(client, db, clock)
    read_hash = await _read_hash(client, bulletin_id, users["v1"])
    edit = await client.patch(
        f"/api/v1/bulletins/{bulletin_id}", json=CHANGED, headers=users["com"].headers
    )
    assert edit.status_code == 200 and edit.json()["status"] == "submitted", edit.text
    approve = await _approve(client, bulletin_id, users["v1"], read_hash)
    assert approve.status_code == 409, approve.text
    assert approve.json()["error"]["code"] == "content_changed"
    assert "modifié" in approve.json()["error"]["message"]
    state = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=users["com"].headers)
    assert state.json()["status"] == "submitted" and state.json()["approved_by"] is None
    publish = await client.post(
        f"/api/v1/bulletins/{bulletin_id}/publish", headers=users["com"].headers
    )
    assert publish.status_code == 409
    assert "bulletin.approved" not in await _actions(db, bulletin_id)


async def test_an_approval_with_the_hash_it_read_still_passes(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, users = await _submitted(client, db, clock)
    read_hash = await _read_hash(client, bulletin_id, users["v1"])
    approve = await _approve(client, bulletin_id, users["v1"], read_hash)
    assert approve.status_code == 200, approve.text
    assert approve.json()["approved_hash"] == read_hash


async def test_an_edit_racing_an_approval_never_lets_an_unread_text_be_published(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    """Whichever commits first, the text published is the one the validator read, or none."""
    users: dict[str, TestUser] | None = None
    for _ in range(3):
        bulletin_id, users = await _submitted(client, db, clock, users)
        read_hash = await _read_hash(client, bulletin_id, users["v1"])
        edit, approve = await asyncio.gather(
            client.patch(
                f"/api/v1/bulletins/{bulletin_id}", json=CHANGED, headers=users["com"].headers
            ),
            _approve(client, bulletin_id, users["v1"], read_hash),
        )
        assert edit.status_code == 200, edit.text
        assert approve.status_code in (200, 409), approve.text
        state = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=users["com"].headers)
        assert state.json()["status"] == "submitted"  # the edit always sends it back to review
        assert state.json()["approved_hash"] is None
        publish = await client.post(
            f"/api/v1/bulletins/{bulletin_id}/publish", headers=users["com"].headers
        )
        assert publish.status_code == 409
        clock.advance(minutes=1)


async def test_the_page_binds_the_approval_to_the_text_it_showed(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    bulletin_id, users = await _submitted(client, db, clock)
    await log_in(client, users["v1"].login, users["v1"].password)
    page = await client.get(f"/communiques/{bulletin_id}")
    assert 'name="content_hash"' in page.text
    edit = await client.patch(
        f"/api/v1/bulletins/{bulletin_id}", json=CHANGED, headers=users["com"].headers
    )
    assert edit.status_code == 200
    hidden = page.text.split('name="content_hash" value="', 1)[1].split('"', 1)[0]
    answer = await client.post(
        f"/communiques/{bulletin_id}/valider",
        data={"csrf_token": csrf_of(page.text), "content_hash": hidden},
    )
    assert answer.status_code in (200, 409)
    assert "modifié" in answer.text
    state = await client.get(f"/api/v1/bulletins/{bulletin_id}", headers=users["com"].headers)
    assert state.json()["status"] == "submitted" and state.json()["approved_by"] is None
