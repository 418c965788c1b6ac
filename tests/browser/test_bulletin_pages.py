from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, log_in

pytestmark = pytest.mark.browser


def test_a_communicator_composes_from_the_playbook_a_validator_approves_and_it_is_published(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    token = live_server.cli("users", "token", "prefet").stdout.strip().splitlines()[-1]
    crisis = httpx.post(
        f"{live_server.url}/api/v1/crises",
        json={"title": "Crue à Abbeville", "kind": "crue", "mode": "real", "communes": ["80001"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    crisis.raise_for_status()
    crisis_id = crisis.json()["id"]

    log_in(page, live_server, "communicant")
    page.goto(f"{live_server.url}/evenements/{crisis_id}")
    page.get_by_role("link", name="Rédiger un communiqué").first.click()
    page.get_by_label("Partir d'un modèle").select_option("premiere-information-public")
    page.get_by_role("button", name="Utiliser ce modèle").click()
    body = page.get_by_role("textbox", name="Texte")  # not the X thread checkbox
    expect(body).to_contain_text("Communes concernées : Abbeville")
    text = body.input_value()
    # The situation comes as the prefect declared it; the communicator makes it precise.
    assert "[à compléter" not in text and "Crue à Abbeville." in text
    body.fill(text.replace("Crue à Abbeville.", "la Somme déborde dans la basse ville.", 1))
    expect(page.locator("#preview")).to_contain_text("Page publique")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_text("Brouillon n°")).to_be_visible()
    bulletin_url = page.url
    page.get_by_role("button", name="Soumettre à validation").click()
    expect(page.locator("#bulletin-status")).to_have_text("Soumis à validation")
    expect(page.get_by_role("button", name="Valider le communiqué")).to_have_count(0)

    validator_context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    validator = validator_context.new_page()
    log_in(validator, live_server, "valideur")
    validator.goto(bulletin_url)
    validator.get_by_role("button", name="Valider le communiqué").click()
    expect(validator.locator("#bulletin-status")).to_have_text("Validé")
    validator_context.close()

    page.reload()
    page.get_by_role("button", name="Publier maintenant").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suivi des envois")
    expect(page.get_by_role("row", name="Page publique")).to_be_visible()
    expect(page.locator("#tracking-total")).to_contain_text("envoyé 1")
    public = page.context.new_page()
    public.goto(f"{live_server.url}/public/bulletins/{bulletin_url.rsplit('/', 1)[-1]}")
    expect(public.get_by_text("la Somme déborde dans la basse ville.")).to_be_visible()
