from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, log_in

pytestmark = pytest.mark.browser


def test_a_communicator_opens_the_flood_playbook_and_reads_its_previews(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, "communicant")
    page.get_by_role("link", name="Fiches réflexes").click()
    page.get_by_role("link", name="Crue", exact=False).first.click()
    expect(page.get_by_role("heading", name="Check-list de la première heure")).to_be_visible()
    expect(page.get_by_role("heading", name="Élus — Courriel").first).to_be_visible()
