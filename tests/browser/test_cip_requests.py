"""Issue 20 item 4 in the browser: a citizen's e-mail reaches the CIP's inbox (real SMTP to the
worker's endpoint); an operator opens it from the console, answers it with the keyboard alone,
and sees it marked answered; the page fits 1366 and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.accessibility import axe_violations
from tests.browser.conftest import LiveServer
from tests.browser.site import context_as, write_to_the_cip
from tests.browser.test_cip_console import _open_cip

pytestmark = pytest.mark.browser


def test_an_operator_answers_a_written_request_with_the_keyboard_and_sees_it_answered(
    browser: Browser, live_server: LiveServer
) -> None:
    crisis_id = _open_cip(live_server)
    write_to_the_cip(live_server, crisis_id, "Route de Pont-Rémy")
    context, page = context_as(browser, live_server, "operateur")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/evenements/{crisis_id}/cip")
    section = page.locator("#cip-demandes")
    expect(section).to_contain_text("Demandes écrites (1 à traiter)")
    section.get_by_role("link", name="Route de Pont-Rémy").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Route de Pont-Rémy")
    expect(page.locator("#demande-etat")).to_have_text("Nouvelle")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366
    page.get_by_label("Réponse").focus()
    page.keyboard.type("La route est rouverte depuis 14 h.")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Envoyer la réponse"
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").first).to_contain_text("Réponse envoyée")
    expect(page.locator("#demande-etat")).to_have_text("Répondue")
    expect(page.locator("#demande-reponse")).to_contain_text("Réponse de operateur")
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/evenements/{crisis_id}/cip")
    expect(page.locator("#cip-demandes")).to_contain_text("Répondue")
    context.close()
