from __future__ import annotations

import httpx
from sqlmodel import select

from crisis import directory, journal_verification
from crisis.app.db import Database
from crisis.journal import JournalEntry
from tests.contacts.files import SOMME_MAYORS, rne_file
from tests.support import FrozenClock, make_user

AMIENS = "rne:80021:martin:emile:1970-12-12"


async def _import_somme(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/contacts/import?format=rne-maires", content=rne_file(SOMME_MAYORS), headers=headers
    )
    assert response.status_code == 200, response.text
    channels = f"cle;canal;adresse;verifie\n{AMIENS};sms;06 39 98 00 01;oui\n".encode()
    files = {"file": ("canaux.csv", channels, "text/csv")}
    response = await client.post("/api/v1/contacts/import", files=files, headers=headers)
    assert response.status_code == 200, response.text


async def test_an_admin_imports_and_every_role_reads_with_channels_masked_for_some(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin1", "admin")
    operator = await make_user(db, clock, "operateur1", "operator")
    await _import_somme(client, admin.headers)
    full = (await client.get("/api/v1/contacts?commune=80021", headers=admin.headers)).json()
    masked = (await client.get("/api/v1/contacts?commune=80021", headers=operator.headers)).json()
    assert full["total"] == masked["total"] == 1
    assert full["items"][0]["channels"][0]["address"] == "+33639980001"
    assert masked["items"][0]["channels"][0]["address"] == "+336…01"
    assert "key" not in masked["items"][0]
    by_arrondissement = await client.get(
        "/api/v1/contacts?arrondissement=801&q=dupont", headers=operator.headers
    )
    assert [c["last_name"] for c in by_arrondissement.json()["items"]] == ["(masqué)"]
    assert "DUPONT" not in by_arrondissement.text  # issue 15 item 5: no name for an operator
    refused = await client.get("/api/v1/contacts?format=csv", headers=operator.headers)
    assert refused.status_code == 403
    export = await client.get("/api/v1/contacts?format=csv", headers=admin.headers)
    assert export.status_code == 200 and AMIENS in export.text


async def test_a_broken_upload_is_a_422_naming_each_line(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin1", "admin")
    body = b"cle;canal;adresse\ntocsin:x;email;nope\ntocsin:y;sms;12\n"
    response = await client.post("/api/v1/contacts/import", content=body, headers=admin.headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_file"
    assert [d["line"] for d in error["details"]] == [2, 3]


async def test_only_admins_import(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "com1", "communicator")
    response = await client.post(
        "/api/v1/contacts/import", content=rne_file(SOMME_MAYORS), headers=user.headers
    )
    assert response.status_code == 403


async def test_erasure_removes_personal_data_and_keeps_the_journal_verifiable(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin1", "admin")
    await _import_somme(client, admin.headers)
    listing = await client.get("/api/v1/contacts?commune=80021", headers=admin.headers)
    contact_id = listing.json()["items"][0]["id"]
    export = await client.get(f"/api/v1/contacts/{contact_id}/export", headers=admin.headers)
    assert export.status_code == 200
    assert any(e["action"] == "contacts.imported" for e in export.json()["journal"])
    response = await client.delete(f"/api/v1/contacts/{contact_id}", headers=admin.headers)
    assert response.status_code == 200 and response.json()["redacted_entries"] >= 2
    after = (await client.get(f"/api/v1/contacts/{contact_id}", headers=admin.headers)).json()
    assert after["last_name"] == "Personne effacée" and after["first_name"] == ""
    assert all(
        "39 98" not in c["address"] and "+336" not in c["address"] for c in after["channels"]
    )
    async with db.read() as session:
        report = await journal_verification.verify(session)
        payloads = (await session.exec(select(JournalEntry.payload))).all()
    assert report.ok, report
    assert not any(AMIENS in p or "+33639980001" in p or "MARTIN" in p for p in payloads)
    again = await client.post(
        "/api/v1/contacts/import?format=rne-maires", content=rne_file(SOMME_MAYORS),
        headers=admin.headers,
    )  # fmt: skip
    assert again.json()["skipped_erased"] == 1


async def test_an_admin_creates_a_contact_with_an_idempotency_key(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin1", "admin")
    body = {
        "audience": "media", "function": "journaliste", "last_name": "DURAND",
        "first_name": "Lise", "area_level": "departement", "area_code": "80",
        "channels": [{"kind": "email", "address": "lise@sandbox.tocsin.test"}],
    }  # fmt: skip
    headers = {**admin.headers, "Idempotency-Key": "k1"}
    first = await client.post("/api/v1/contacts", json=body, headers=headers)
    second = await client.post("/api/v1/contacts", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    bad = await client.post(
        "/api/v1/contacts", json={**body, "area_code": "99"}, headers=admin.headers
    )
    assert bad.status_code == 422 and "zone inconnue" in bad.json()["error"]["details"][0]


async def test_geo_search_and_area_expansion(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "op1", "operator")
    found = await client.get("/api/v1/geo/communes?q=epehy", headers=user.headers)
    assert found.json()["items"][0]["name"] == "Épehy"
    area = await client.get("/api/v1/geo/areas?arrondissement=803", headers=user.headers)
    assert area.json()["count"] == len(area.json()["communes"]) > 100
    unknown = await client.get("/api/v1/geo/areas?epci=123", headers=user.headers)
    assert unknown.status_code == 422


async def test_the_roster_answers_who_is_on_duty_and_where_the_gaps_are(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "op1", "operator")
    async with db.transaction() as session:
        await directory.load_demo(session, now=clock.now())
    duty = (await client.get("/api/v1/roster/on-duty", headers=user.headers)).json()
    assert {r: len(v) for r, v in duty["roles"].items()} == {
        "communication": 2, "validator": 2, "prefect": 2,
    }  # fmt: skip
    gaps = (await client.get("/api/v1/roster/gaps", headers=user.headers)).json()
    assert gaps["uncovered_hours"] == 6 and gaps["items"][0]["role"] == "validator"
