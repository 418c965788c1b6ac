from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in

pytestmark = pytest.mark.browser


def test_declaring_orders_the_cell_and_the_es47_countdown_ticks_on_the_dashboard(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "prefet")
    page.get_by_role("link", name="Déclarer un événement").click()
    page.get_by_label("Intitulé").fill("Tempête sur le littoral picard")
    page.get_by_label("Type d'événement").select_option("tempete")
    page.get_by_label("Communes touchées").fill("Cayeux-sur-Mer")
    page.get_by_role("button", name="Déclarer l'événement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tempête sur le littoral picard")
    expect(page.get_by_text("Cellule ordonnée").first).to_be_visible()
    timer = page.locator("[data-clock=ES47] [role=timer]")
    expect(timer).to_have_text(re.compile(r"^\s*(59|60):\d\d\s*$"))
    first = timer.inner_text()
    page.wait_for_timeout(1500)
    assert timer.inner_text() != first  # the seconds tick locally
    page.get_by_role("button", name="Déclarer la cellule opérationnelle").click()
    expect(page.get_by_role("alert")).to_contain_text("Effectif minimal non atteint")
    page.get_by_role("link", name="Tableau de bord").click()
    card = page.get_by_role("region", name=re.compile("Tempête sur le littoral picard"))
    expect(card.locator("[data-clock=ES47]")).to_contain_text("En cours")
    expect(card.locator("[data-clock=ES48]")).to_contain_text("Non démarrée")
