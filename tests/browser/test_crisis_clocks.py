from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in

pytestmark = pytest.mark.browser


def _declare(
    page: Page, server: LiveServer, title: str, kind: str, commune: str, *, exercise: bool = False
) -> None:
    log_in(page, server, "prefet")
    page.get_by_role("link", name="Déclarer un événement").click()
    page.get_by_label("Intitulé").fill(title)
    page.get_by_label("Type d'événement").select_option(kind)
    if exercise:
        page.get_by_text("Exercice (aucun envoi au public réel)").click()  # the DSFR label
    page.get_by_label("Communes touchées").fill(commune)
    page.get_by_role("button", name="Déclarer l'événement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def test_declaring_orders_the_cell_and_the_es47_countdown_ticks_on_the_dashboard(
    page: Page, live_server: LiveServer
) -> None:
    _declare(page, live_server, "Tempête sur le littoral picard", "tempete", "Cayeux-sur-Mer")
    expect(page.get_by_text("Cellule ordonnée").first).to_be_visible()
    timer = page.locator("[data-clock=ES47] [role=timer]")
    expect(timer).to_have_text(re.compile(r"^\s*(5[5-9]|60):\d\d\s*$"))
    first = timer.inner_text()
    page.wait_for_timeout(1500)
    assert timer.inner_text() != first  # the seconds tick locally
    page.get_by_role("button", name="Déclarer la cellule opérationnelle").click()
    expect(page.get_by_role("alert")).to_contain_text("Effectif minimal non atteint")
    page.get_by_role("link", name="Tableau de bord").click()
    card = page.get_by_role("region", name=re.compile("Tempête sur le littoral picard"))
    expect(card.locator("[data-clock=ES47]")).to_contain_text("En cours")
    expect(card.locator("[data-clock=ES48]")).to_contain_text("Non démarrée")


def test_closing_an_exercise_leads_to_its_summary_and_the_pdf_downloads(
    page: Page, live_server: LiveServer
) -> None:
    _declare(page, live_server, "Exercice crue de la Somme", "crue", "Abbeville", exercise=True)
    crisis_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.get_by_role("button", name="Clore l'événement").click()  # a DSFR modal, no confirm()
    page.get_by_role("dialog").get_by_role("button", name="Confirmer la clôture").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilan : Exercice crue de la Somme")
    expect(page.get_by_text("EXERCICE — EXERCICE — EXERCICE").first).to_be_visible()
    link = page.get_by_role("link", name=re.compile(r"^Télécharger la synthèse \(PDF, \d+ ko\)$"))
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == f"tocsin-synthese-{crisis_id}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
