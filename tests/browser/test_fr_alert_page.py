"""The FR-Alert checklist in a real browser: the prefect reads the text to paste and records
the portal's broadcast from the form (issue 21 item 5), with no CSP violation nor axe-core
finding before or after."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import Browser, expect

from crisis.app.clock import PARIS
from tests.browser.accessibility import axe_violations
from tests.browser.conftest import LiveServer
from tests.browser.site import api, context_as, published_site
from tests.browser.test_content_security_policy import COLLECT_VIOLATIONS
from tests.crisis.bulletin_support import TITLE

pytestmark = pytest.mark.browser


def test_the_prefect_records_the_fr_alert_broadcast_from_the_checklist(
    browser: Browser, live_server: LiveServer
) -> None:
    site = published_site(live_server)
    context, page = context_as(browser, live_server, "prefet", init_script=COLLECT_VIOLATIONS)
    page.goto(f"{live_server.url}/communiques/{site.bulletin_id}")
    page.get_by_role("link", name="Diffusion FR-Alert…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Diffusion FR-Alert")
    expect(page.get_by_label("Texte à coller")).to_contain_text(TITLE)
    expect(page.locator("#fr-alert-count")).to_contain_text("caractères sur 615 au plus")
    assert page.evaluate("window.__violations") == [] and axe_violations(page) == []
    page.get_by_label("Référence donnée par le portail").fill("FRA-80-2026-0001")
    broadcast = datetime.now(PARIS)  # the minute of publication: not before it
    page.get_by_label("Heure de la diffusion").fill(broadcast.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Enregistrer la diffusion FR-Alert").click()
    expect(page.locator("#fr-alert-done")).to_contain_text("FRA-80-2026-0001")
    assert page.evaluate("window.__violations") == [] and axe_violations(page) == []
    context.close()
    with api(live_server, "prefet") as prefect:
        shown = prefect.get(f"/api/v1/bulletins/{site.bulletin_id}/fr-alert").json()
    assert shown["broadcast"]["reference"] == "FRA-80-2026-0001"
    assert shown["broadcast"]["recorded_by"] == "prefet"
