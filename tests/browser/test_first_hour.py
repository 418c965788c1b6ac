"""The first hour in a real browser: the next step on top, the COD before the cell, and a
closure with ES48 unmet confirmed in a DSFR modal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in

pytestmark = pytest.mark.browser

# The clock started a moment ago, by the server's wall clock: a loaded machine may take a
# minute or two between the action and the reading, never an hour.
ABOUT_AN_HOUR_LEFT = r"reste (5[5-9]|60) min"


def _declare_and_record_the_cod(page: Page, server: LiveServer, title: str) -> None:
    log_in(page, server, "prefet")
    page.get_by_role("link", name="Déclarer un événement").click()
    page.get_by_label("Intitulé").fill(title)
    page.get_by_label("Type d'événement").select_option("crue")
    page.get_by_label("Communes touchées").fill("Montdidier")
    page.get_by_role("button", name="Déclarer l'événement").click()
    panel = page.locator("#prochaine-etape")
    expect(panel).to_contain_text("Prochaine étape : Compléter la cellule")
    expect(panel).to_contain_text(re.compile(r"ES47 : échéance .* " + ABOUT_AN_HOUR_LEFT))
    page.get_by_label("Référence SYNERGI").fill("SYN-80-2026-0412")
    page.get_by_label("Décidée par").fill("Mme la préfète")
    page.get_by_role("button", name="Enregistrer l'activation du COD").click()
    expect(page.get_by_role("alert")).to_contain_text("Activation du COD enregistrée")


def test_the_next_step_leads_to_the_first_bulletin_once_the_cod_is_recorded_before_the_cell(
    page: Page, live_server: LiveServer
) -> None:
    _declare_and_record_the_cod(page, live_server, "Crue de l'Avre à Montdidier")
    panel = page.locator("#prochaine-etape")
    title = "Rédiger le premier communiqué aux élus — modèle prêt"
    expect(panel.get_by_role("heading")).to_have_text(f"Prochaine étape : {title}")
    expect(panel).to_contain_text(re.compile(r"ES48 : échéance .* " + ABOUT_AN_HOUR_LEFT))
    box = panel.bounding_box()
    clocks = page.get_by_role("heading", name="Horloges").bounding_box()
    assert box is not None and clocks is not None and box["y"] < clocks["y"]
    panel.get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(r"/communiques/nouveau\?modele=premiere-information-elus$"))


def test_closing_with_es48_unmet_asks_in_a_dsfr_modal_with_a_box_to_tick(
    page: Page, live_server: LiveServer
) -> None:
    _declare_and_record_the_cod(page, live_server, "Crue de la Noye à Ailly")
    dialog = page.get_by_role("dialog", name="Clore définitivement l'événement ?")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Clore l'événement").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("L'ES48 n'est pas tenu")
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Clore l'événement").click()
    dialog.get_by_role("button", name="Confirmer la clôture").click()  # box unticked: stays
    expect(dialog).to_be_visible()
    assert "/bilan" not in page.url
    dialog.get_by_text("Je confirme la clôture alors que l'ES48 n'est pas tenu").click()
    dialog.get_by_role("button", name="Confirmer la clôture").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilan : Crue de la Noye à Ailly")
