"""`/api/v1/exercises` for reachability tests: planned by a trainer, approved by a prefect,
launched, refused inside the window (nothing written), reported (unreachable, silent)."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
from pypdf import PdfReader
from sqlmodel import func, select

from crisis.app.db import Database
from crisis.dispatch.outbox import Delivery
from tests.crisis.lifecycle_support import add_contact
from tests.support import FrozenClock, make_user


async def _deliveries(db: Database) -> int:
    async with db.read() as session:
        return (await session.exec(select(func.count()).select_from(Delivery))).one()


async def test_a_reachability_test_waits_for_the_prefect_then_reports_who_did_not_answer(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    prefect = await make_user(db, clock, "prefet", "prefect")
    async with db.transaction() as session:
        mayor = await add_contact(session, name="Anne Maire", audience="officials", now=clock.now())
    body = {
        "title": "Joignabilité trimestrielle",
        "kind": "reachability",
        "participants": [mayor],
        "starts_at": (clock.now() + timedelta(days=1)).isoformat(),
    }
    created = await client.post("/api/v1/exercises", json=body, headers=trainer.headers)
    assert created.status_code == 201, created.text
    drill = created.json()
    assert drill["awaiting_approval"] is True
    pending = await client.get(f"/exercices/{drill['id']}", headers=trainer.headers)
    assert "en attente d'approbation" in pending.text
    url = f"/api/v1/exercises/{drill['id']}"
    early = await client.post(f"{url}/launch", headers=trainer.headers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_approved"
    denied = await client.post(f"{url}/approve", headers=trainer.headers)
    assert denied.status_code == 403
    approved = await client.post(f"{url}/approve", headers=prefect.headers)
    assert approved.status_code == 200 and approved.json()["approved_by"] == "prefet"
    launched = await client.post(f"{url}/launch", headers=trainer.headers)
    assert launched.status_code == 201, launched.text
    run_id = launched.json()["run_id"]
    assert launched.json()["crisis_id"] is None and await _deliveries(db) == 1
    report = (await client.get(f"{url}/runs/{run_id}/report", headers=prefect.headers)).json()
    assert report["reachability"] == {
        "officials": 1,
        "answered": 0,
        "answered_people": [],
        "unreachable": [],
        "silent": [{"contact_id": mayor, "name": "Anne Maire"}],
    }
    page = await client.get(f"/exercices/{drill['id']}/seances/{run_id}", headers=trainer.headers)
    assert page.status_code == 200
    assert "Joignabilité des élus" in page.text and "Anne Maire" in page.text
    assert "Joints, sans réponse" in page.text and "ne sont pas encore rapprochées" not in page.text
    pdf = await client.get(
        f"/exercices/{drill['id']}/seances/{run_id}/bilan.pdf", headers=trainer.headers
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Joignabilité des élus" in text and "Anne Maire" in text
    assert "0 élu(s) sur 1 ont répondu" in text and "1 joint(s) sans réponse" in text
    shown = await client.get(f"/exercices/{drill['id']}", headers=prefect.headers)
    assert "approuvé par prefet" in shown.text
    stopped = await client.post(
        f"{url}/runs/{run_id}/stop", json={"reason": "Fin du test"}, headers=trainer.headers
    )
    assert stopped.status_code == 200, stopped.text
    clock.advance(days=10)
    again = await client.post(f"{url}/launch", headers=trainer.headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "reachability_too_soon"
    assert "Anne Maire" in again.json()["error"]["message"]
    assert await _deliveries(db) == 1


async def test_a_reachability_test_over_a_journalist_is_refused(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    async with db.transaction() as session:
        journalist = await add_contact(
            session, name="Jean Presse", audience="media", now=clock.now()
        )
    body = {
        "title": "Joignabilité",
        "kind": "reachability",
        "participants": [journalist],
        "starts_at": (clock.now() + timedelta(days=1)).isoformat(),
    }
    refused = await client.post("/api/v1/exercises", json=body, headers=trainer.headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_official"
