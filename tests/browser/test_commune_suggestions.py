"""The commune field's suggestions in a real browser: a lost answer is asked again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveServer, log_in

pytestmark = pytest.mark.browser


def test_a_suggestion_request_that_failed_is_asked_again_and_the_commune_can_be_chosen(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "prefet")
    page.get_by_role("link", name="Déclarer un événement").click()
    failed: list[str] = []

    def answer(route: Route) -> None:
        if not failed:  # a busy server: one answer is a 503
            failed.append(route.request.url)
            route.fulfill(status=503, body="indisponible")
        else:
            route.continue_()

    page.route("**/api/v1/geo/communes?*", answer)
    communes = page.get_by_label("Communes touchées")
    communes.press_sequentially("Montdid")
    expect(page.get_by_text("Suggestions momentanément indisponibles")).to_be_attached()
    page.get_by_role("button", name="Montdidier (80561)").click()
    expect(communes).to_have_value("Montdidier (80561), ")
    assert len(failed) == 1


def test_a_name_typed_before_the_script_arrived_gets_its_suggestions(
    page: Page, live_server: LiveServer
) -> None:
    held: list[Route] = []  # a slow server: the script arrives after the typing
    page.route("**/static/tocsin/communes.js", lambda route: held.append(route))
    log_in(page, live_server, "prefet")
    page.get_by_role("link", name="Déclarer un événement").click()
    communes = page.get_by_label("Communes touchées")
    communes.press_sequentially("Montdid")
    assert len(held) == 1
    held[0].continue_()
    page.get_by_role("button", name="Montdidier (80561)").click()
    expect(communes).to_have_value("Montdidier (80561), ")
