"""ES48's officials not informed yet: from the crisis page to their whole list (issue 16 item 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import LiveServer, log_in
from tests.browser.site import token as site_token
from tests.browser.test_content_security_policy import COLLECT_VIOLATIONS
from tests.crisis.bulletin_support import BODY, TITLE

pytestmark = pytest.mark.browser

MAYORS = ("Aubert", "Bazin", "Carpentier")


def _api(server: LiveServer, login: str) -> httpx.Client:
    token = site_token(server, login)
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


def _crisis_waiting_for_three_mayors(server: LiveServer) -> int:
    """COD activated, a bulletin to the officials: three mayors with a landline only, to call."""
    with (
        _api(server, "prefet") as prefect,
        _api(server, "communicant") as communicator,
        _api(server, "valideur") as validator,
        _api(server, "admin") as admin,
    ):
        for n, name in enumerate(MAYORS):
            admin.post(
                "/api/v1/contacts",
                json={
                    "audience": "officials",
                    "function": "maire",
                    "last_name": name.upper(),
                    "first_name": "Maire",
                    "area_level": "commune",
                    "area_code": "80016",
                    "channels": [{"kind": "phone", "address": f"+3335301{n:04d}"}],
                },
            ).raise_for_status()
        crisis = prefect.post(
            "/api/v1/crises",
            json={"title": "Crue de l'Avre", "kind": "crue", "mode": "real", "communes": ["80016"]},
        )
        crisis.raise_for_status()
        crisis_id = crisis.json()["id"]
        for who, role in ((communicator, "communication"), (validator, "validator")):
            who.post(
                f"/api/v1/crises/{crisis_id}/cell/acknowledgements", json={"role": role}
            ).raise_for_status()
        communicator.post(f"/api/v1/crises/{crisis_id}/cell/operational").raise_for_status()
        activated = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        prefect.post(
            f"/api/v1/crises/{crisis_id}/cod",
            json={"activated_at": activated, "synergi_ref": "SYN-80-7", "decided_by": "Préfète"},
        ).raise_for_status()
        draft = communicator.post(
            f"/api/v1/crises/{crisis_id}/bulletins",
            json={"title": TITLE, "body": BODY, "audiences": ["officials"], "channels": ["email"]},
        )
        draft.raise_for_status()
        bulletin_id = draft.json()["id"]
        communicator.post(f"/api/v1/bulletins/{bulletin_id}/submit").raise_for_status()
        validator.post(f"/api/v1/bulletins/{bulletin_id}/approve").raise_for_status()
        communicator.post(f"/api/v1/bulletins/{bulletin_id}/publish").raise_for_status()
    return int(crisis_id)


def test_the_crisis_page_leads_to_the_list_of_officials_es48_still_waits_for(
    browser: Browser, live_server: LiveServer
) -> None:
    crisis_id = _crisis_waiting_for_three_mayors(live_server)
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    log_in(page, live_server, "communicant")
    page.goto(f"{live_server.url}/evenements/{crisis_id}")
    page.get_by_role("link", name="voir la liste").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ES48 : élus non encore informés")
    expect(page.locator("#es48-missing-count")).to_contain_text("3 en attente")
    names = page.locator(".tocsin-es48-missing li")
    expect(names).to_have_text([f"Maire {n.upper()}" for n in MAYORS])
    page.get_by_role("link", name="Médias").click()
    expect(page.get_by_role("link", name="Médias")).to_have_attribute("aria-current", "page")
    assert page.evaluate("window.__violations") == []
    context.close()
