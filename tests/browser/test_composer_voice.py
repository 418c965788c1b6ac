"""Issue 18 item 6 in a browser: communes chosen by autocomplete (the template's « Communes
concernées » follows), the preview says what the save answers, and publishing shows who will
receive it, then asks for confirmation repeating it."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, log_in
from tests.browser.site import token as site_token

pytestmark = pytest.mark.browser


def _declared(server: LiveServer) -> int:
    token = site_token(server, "prefet")
    crisis = httpx.post(
        f"{server.url}/api/v1/crises",
        json={"title": "Crue à Abbeville", "kind": "crue", "mode": "real", "communes": ["80001"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    crisis.raise_for_status()
    crisis_id: int = crisis.json()["id"]
    return crisis_id


def test_the_composer_chooses_communes_previews_what_the_save_says_and_confirms_recipients(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    crisis_id = _declared(live_server)
    log_in(page, live_server, "communicant")
    page.goto(f"{live_server.url}/evenements/{crisis_id}/communiques/nouveau")
    page.get_by_label("Partir d'un modèle").select_option("premiere-information-public")
    page.get_by_role("button", name="Utiliser ce modèle").click()
    body = page.get_by_role("textbox", name="Texte")
    expect(body).to_contain_text("Communes concernées : Abbeville")
    body.fill(body.input_value().replace("Crue à Abbeville.", "La Somme déborde.", 1))

    communes = page.get_by_label("Communes concernées")
    communes.press_sequentially("Amie")
    page.get_by_role("button", name="Amiens (80021)").click()
    expect(communes).to_have_value("Amiens (80021), ")
    expect(body).to_have_value(re.compile("Communes concernées : Amiens\n"))

    page.get_by_label("Titre", exact=True).fill("a")
    said = page.locator("#preview-to-save li")
    expect(said).to_have_text(["Le titre doit compter au moins 3 caractères."])
    preview_problems = said.all_inner_texts()
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    refused = page.locator(".fr-alert--error[role=alert] li")  # the save's, not the preview's
    expect(refused).to_have_text(preview_problems)

    page.get_by_label("Titre", exact=True).fill("Crue de la Somme")
    expect(page.locator("#preview-to-save")).to_have_count(0)
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_text("Brouillon n°")).to_be_visible()
    bulletin_url = page.url
    page.get_by_role("button", name="Soumettre à validation").click()
    expect(page.locator("#bulletin-status")).to_have_text("Soumis à validation")

    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    validator = context.new_page()
    log_in(validator, live_server, "valideur")
    validator.goto(bulletin_url)
    validator.get_by_role("button", name="Valider le communiqué").click()
    expect(validator.locator("#bulletin-status")).to_have_text("Validé")
    context.close()

    page.reload()
    counted = page.locator("#recipients-count p").inner_text()
    assert "la page publique" in counted
    page.get_by_role("link", name="Publier…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Publier")
    expect(page.locator(".fr-callout__title")).to_contain_text(counted.rstrip("."))
    page.get_by_role("button", name="Confirmer et publier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suivi des envois")
