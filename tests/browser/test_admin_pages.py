"""Issue 18 item 12 in a real browser: the roster edited, accounts managed, an import applied
after its dry run without choosing the file again."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in
from tests.contacts.files import rne_file, rne_row

pytestmark = pytest.mark.browser
PARIS = ZoneInfo("Europe/Paris")


def _add_shift(page: Page, person: str, starts: str, ends: str) -> None:
    form = page.locator("form[action='/astreinte/tours']")
    form.get_by_label("Rôle").select_option(label="Valideur d'astreinte")
    form.get_by_label("Début").fill(starts)
    form.get_by_label("Fin").fill(ends)
    form.get_by_label("Personne d'astreinte").select_option(label=person)
    form.get_by_role("button", name="Ajouter le tour").click()
    expect(page.get_by_role("alert").filter(has_text="Tour d'astreinte ajouté")).to_be_visible()


def _local(days: int) -> str:
    day = datetime.now(PARIS).replace(hour=8, minute=0, second=0, microsecond=0)
    return f"{day + timedelta(days=days):%Y-%m-%dT%H:%M}"


def _shift_id(page: Page, person: str) -> str:
    link = page.get_by_role("link", name=re.compile(rf"^Modifier le tour : .* — {person}$"))
    href = link.get_attribute("href") or ""
    return href.split("/")[3]


def test_the_prefect_edits_a_shift_and_swaps_two_on_the_roster_page(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "prefet")
    page.get_by_role("link", name="Astreinte").first.click()
    _add_shift(page, "formateur", _local(1), _local(8))
    _add_shift(page, "operateur", _local(8), _local(15))
    first, second = _shift_id(page, "formateur"), _shift_id(page, "operateur")

    page.get_by_role("link", name=re.compile(r"^Modifier le tour : .* — formateur$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modifier un tour d'astreinte")
    page.get_by_label("Niveau").select_option("2")
    page.get_by_role("button", name="Enregistrer le tour").click()
    expect(page.get_by_role("alert").filter(has_text="Tour d'astreinte modifié")).to_be_visible()
    expect(page.locator(f"a[href='/astreinte/tours/{first}/modifier']")).to_have_accessible_name(
        re.compile(r"niveau 2, .* — formateur$")
    )

    page.get_by_label("Premier tour").select_option(first)
    page.get_by_label("Second tour").select_option(second)
    page.get_by_role("button", name="Échanger les personnes").click()
    expect(page.get_by_role("alert").filter(has_text="échangé leurs personnes")).to_be_visible()
    expect(page.locator(f"a[href='/astreinte/tours/{first}/modifier']")).to_have_accessible_name(
        re.compile(r"niveau 2, .* — operateur$")
    )
    expect(page.locator(f"a[href='/astreinte/tours/{second}/modifier']")).to_have_accessible_name(
        re.compile(r"niveau 1, .* — formateur$")
    )


def test_an_administrator_creates_an_account_sees_its_password_once_and_disables_it(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "admin")
    page.get_by_role("link", name="Utilisateurs").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Utilisateurs")
    page.get_by_label("Identifiant").fill("agent-navigateur")
    page.get_by_label("Nom affiché").fill("Agent du navigateur")
    page.locator("label[for='nouveau-role-communicator']").click()  # DSFR draws the box
    expect(page.get_by_label("Chargé de communication")).to_be_checked()
    page.get_by_role("button", name="Créer le compte").click()
    expect(
        page.get_by_role("status").filter(has_text="Compte « agent-navigateur » créé")
    ).to_be_visible()
    one_time = page.locator("#mot-de-passe-unique").inner_text()
    assert len(one_time) >= 12
    page.reload()
    expect(page.locator("#mot-de-passe-unique")).to_have_count(0)
    page.get_by_role("link", name="Gérer le compte « agent-navigateur »").click()
    page.get_by_role("button", name="Désactiver le compte").click()
    expect(page.get_by_role("alert").filter(has_text="désactivé")).to_be_visible()
    page.goto(f"{live_server.url}/utilisateurs")
    row = page.locator("tr", has_text="agent-navigateur")
    expect(row.get_by_text("Désactivé")).to_be_visible()


def test_a_dry_run_then_importer_ce_fichier_imports_the_same_file(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    upload = tmp_path / "maires.csv"
    upload.write_bytes(rne_file([rne_row("80620", "NAVIGATEUR", "Odile")]))
    log_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/annuaire/import")
    page.get_by_label("Fichier CSV").set_input_files(str(upload))
    page.get_by_label("Format").select_option("rne-maires")
    page.get_by_role("button", name="Vérifier et importer").click()
    expect(page.get_by_role("status").filter(has_text="Essai à blanc")).to_be_visible()
    upload.unlink()  # the browser has nothing left to send: the server kept the checked file
    page.get_by_role("button", name="Importer ce fichier").click()
    expect(page.get_by_role("status").filter(has_text="Import effectué")).to_be_visible()
    page.goto(f"{live_server.url}/annuaire?q=NAVIGATEUR")
    expect(page.get_by_text("NAVIGATEUR", exact=False).first).to_be_visible()
