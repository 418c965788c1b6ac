from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in
from tests.browser.site import token as site_token

pytestmark = pytest.mark.browser


def test_a_prefect_logs_in_declares_a_crisis_and_finds_it_on_the_dashboard_and_journal(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "prefet")
    page.get_by_role("link", name="Déclarer un événement").click()
    page.get_by_label("Intitulé").fill("Crue de la Somme à Abbeville")
    page.get_by_label("Type d'événement").select_option("crue")
    page.get_by_label("Communes touchées").fill("Abbeville, Épagne-Épagnette")
    page.get_by_role("button", name="Déclarer l'événement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crue de la Somme à Abbeville")
    expect(page.get_by_text("Abbeville, Épagne-Épagnette")).to_be_visible()
    page.get_by_role("link", name="Tableau de bord").click()
    expect(page.get_by_role("link", name="Crue de la Somme à Abbeville")).to_be_visible()
    page.get_by_role("link", name="Main courante", exact=True).click()
    expect(page.get_by_text("Chaîne d'empreintes vérifiée")).to_be_visible()
    expect(page.get_by_role("cell", name="Événement déclaré").first).to_be_visible()


def test_an_exercise_carries_the_exercise_banner(page: Page, live_server: LiveServer) -> None:
    log_in(page, live_server, "prefet")
    page.goto(f"{live_server.url}/evenements/nouveau")
    page.get_by_label("Intitulé").fill("Exercice submersion Baie de Somme")
    page.get_by_label("Type d'événement").select_option("submersion-marine")
    page.locator("label[for=mode-exercise]").click()
    page.get_by_label("Communes touchées").fill("Le Crotoy")
    page.get_by_role("button", name="Déclarer l'événement").click()
    banner = page.locator(".tocsin-exercise-banner")
    expect(banner).to_have_attribute("role", "status")
    expect(banner).to_contain_text("EXERCICE — EXERCICE — EXERCICE")


def test_the_dashboard_updates_live_when_another_user_declares_a_crisis(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "prefet")
    page.wait_for_timeout(500)  # let the event stream connect before the change happens
    token = site_token(live_server, "prefet")
    import httpx

    httpx.post(
        f"{live_server.url}/api/v1/crises",
        json={
            "title": "Tempête Ciarán bis",
            "kind": "tempete",
            "mode": "real",
            "communes": ["80021"],
        },
        headers={"Authorization": f"Bearer {token}"},
    ).raise_for_status()
    expect(page.get_by_role("link", name="Tempête Ciarán bis")).to_be_visible()


def test_a_wrong_password_shows_a_french_error(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/connexion")
    page.get_by_label("Identifiant").fill("communicant")
    page.get_by_label("Mot de passe").fill("pas le bon")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile("Identifiant ou mot de passe incorrect")
    )
