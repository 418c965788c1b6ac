from __future__ import annotations

import hashlib
import re

import httpx

from crisis import directory
from crisis.app.db import Database
from tests.contacts.files import SOMME_MAYORS, rne_file, rne_row
from tests.support import FrozenClock, make_user


async def _login(client: httpx.AsyncClient, login: str, password: str) -> str:
    page = await client.get("/connexion")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = await client.post(
        "/connexion",
        data={"login": login, "password": password, "csrf_token": token.group(1)},
    )
    assert response.status_code == 303
    home = await client.get("/annuaire/import")
    found = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    return found.group(1) if found else ""


async def test_directory_person_and_roster_pages_render(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "com1", "communicator")
    async with db.transaction() as session:
        await directory.load_demo(session, now=clock.now())
    page = await client.get("/annuaire?commune=abbeville", headers=user.headers)
    assert page.status_code == 200
    assert "<caption>Contacts de l'annuaire</caption>" in page.text and "Maire" in page.text
    person = re.search(r'href="/annuaire/(\d+)"', page.text)
    assert person
    detail = await client.get(f"/annuaire/{person.group(1)}", headers=user.headers)
    assert detail.status_code == 200 and "sandbox.tocsin.test" in detail.text
    roster = await client.get("/astreinte", headers=user.headers)
    assert roster.status_code == 200 and "6 heure(s) sans astreinte" in roster.text


async def test_the_import_page_dry_runs_by_default_and_lists_bad_lines(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin1", "admin")
    csrf = await _login(client, "admin1", admin.password)
    form = await client.get("/annuaire/import")
    assert 'id="dry_run" name="dry_run" value="1" checked' in form.text
    ok = await client.post(
        "/annuaire/import",
        data={"csrf_token": csrf, "format": "rne-maires", "dry_run": "1"},
        files={"file": ("maires.csv", rne_file(SOMME_MAYORS), "text/csv")},
    )
    assert ok.status_code == 200 and "Essai à blanc" in ok.text and "3 ajouté(s)" in ok.text
    bad = await client.post(
        "/annuaire/import",
        data={"csrf_token": csrf, "format": "rne-maires"},
        files={"file": ("maires.csv", rne_file([rne_row("99999", "X", "Y")]), "text/csv")},
    )
    assert bad.status_code == 422 and "commune inconnue « 99999 »" in bad.text


_KEPT = re.compile(r'name="sha256" value="([0-9a-f]{64})"')


async def test_after_a_dry_run_importer_ce_fichier_applies_the_same_file_once(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin1", "admin")
    csrf = await _login(client, "admin1", admin.password)
    content = rne_file(SOMME_MAYORS)
    dry = await client.post(
        "/annuaire/import",
        data={"csrf_token": csrf, "format": "rne-maires", "dry_run": "1"},
        files={"file": ("maires.csv", content, "text/csv")},
    )
    kept = _KEPT.search(dry.text)
    assert kept and kept.group(1) == hashlib.sha256(content).hexdigest()
    assert "Importer ce fichier" in dry.text
    data = {"csrf_token": csrf, "sha256": kept.group(1)}
    applied = await client.post("/annuaire/import/confirmation", data=data)
    assert applied.status_code == 200, applied.text
    assert "Import effectué" in applied.text and "3 ajouté(s)" in applied.text
    again = await client.post("/annuaire/import/confirmation", data=data)
    assert again.status_code == 409 and "choisissez-le de nouveau" in again.text


async def test_a_checked_file_is_not_applied_from_another_session_or_after_thirty_minutes(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin1", "admin")
    csrf = await _login(client, "admin1", admin.password)
    dry = await client.post(
        "/annuaire/import",
        data={"csrf_token": csrf, "format": "rne-maires", "dry_run": "1"},
        files={"file": ("maires.csv", rne_file(SOMME_MAYORS), "text/csv")},
    )
    kept = _KEPT.search(dry.text)
    assert kept
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as other:
        other_csrf = await _login(other, "admin1", admin.password)
        data = {"csrf_token": other_csrf, "sha256": kept.group(1)}
        assert (await other.post("/annuaire/import/confirmation", data=data)).status_code == 409
    clock.advance(minutes=31)
    data = {"csrf_token": csrf, "sha256": kept.group(1)}
    assert (await client.post("/annuaire/import/confirmation", data=data)).status_code == 409
    listing = await client.get("/annuaire?commune=abbeville")
    assert listing.status_code == 200 and "DUPONT" not in listing.text
