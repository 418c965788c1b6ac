"""Issue 18 item 11 in the browser: the cabinet writes a decision in the main courante, with the
time of the fact and its source; the journal shows it in French and filters it; a refused entry
comes back with what was typed; on a phone the page fits the screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, log_in

pytestmark = pytest.mark.browser


def test_the_prefect_writes_a_decision_in_the_main_courante_and_finds_it_with_the_filter(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    log_in(page, live_server, "prefet")
    page.get_by_role("link", name="Déclarer un événement").click()
    page.get_by_label("Intitulé").fill("Crue de l'Avre à Montdidier")
    page.get_by_label("Type d'événement").select_option("crue")
    page.get_by_label("Communes touchées").fill("Montdidier")
    page.get_by_role("button", name="Déclarer l'événement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crue de l'Avre à Montdidier")
    page.get_by_role("link", name=re.compile("^Main courante complète")).click()
    expect(page.get_by_role("heading", name="Ajouter à la main courante")).to_be_visible()
    # the « Détail » column is French: no raw JSON anywhere in the table
    expect(page.locator("table")).not_to_contain_text("{")

    page.get_by_label("Décision").check()
    page.get_by_label("Texte").fill("   ")  # spaces only: refused by the server, source kept
    page.get_by_label("Source").fill("appel du maire de Montdidier")
    page.get_by_role("button", name="Ajouter à la main courante").click()
    expect(page.get_by_role("alert")).to_contain_text("Écrivez le texte de l'entrée : il est vide.")
    expect(page.get_by_label("Source")).to_have_value("appel du maire de Montdidier")

    page.get_by_label("Texte").fill("Évacuation préventive du camping de Montdidier")
    page.get_by_role("button", name="Ajouter à la main courante").click()
    expect(page.get_by_role("alert")).to_contain_text("Entrée ajoutée à la main courante.")
    row = page.locator("tr", has_text="Évacuation préventive du camping de Montdidier")
    expect(row).to_contain_text("Décision")
    expect(row).to_contain_text("Source : appel du maire de Montdidier")
    expect(row).to_contain_text("prefet")
    expect(page.get_by_text("aucune altération")).to_be_visible()

    page.get_by_label("Nature", exact=True).select_option("decision")
    page.get_by_label("Auteur").select_option("prefet")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("status")).to_contain_text("1 entrée sur")
    expect(page.locator("tbody tr")).to_have_count(1)

    phone = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    small = phone.new_page()
    log_in(small, live_server, "prefet")
    small.goto(page.url)
    expect(small.get_by_role("heading", name="Ajouter à la main courante")).to_be_visible()
    wide = small.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, wide
    phone.close()
