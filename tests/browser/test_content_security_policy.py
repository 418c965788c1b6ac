"""Every page renders under the strict CSP: no inline script, no handler, no style attribute."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page

from crisis.app.security_headers import CONTENT_SECURITY_POLICY
from tests.browser.conftest import LiveServer, log_in
from tests.crisis.bulletin_support import BODY, TITLE

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""
LIVE_REGIONS_SETTLED = "() => !document.querySelector('[aria-busy=true]')"


def _api(server: LiveServer, login: str) -> httpx.Client:
    token = server.cli("users", "token", login).stdout.strip().splitlines()[-1]
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


def _published_bulletin(server: LiveServer) -> tuple[int, int, int]:
    """A crisis, a bulletin published in it, a contact: the ids every page needs."""
    with (
        _api(server, "prefet") as prefect,
        _api(server, "communicant") as communicator,
        _api(server, "valideur") as validator,
    ):
        crisis = prefect.post(
            "/api/v1/crises",
            json={"title": "Crue sous CSP", "kind": "crue", "mode": "real", "communes": ["80001"]},
        )
        crisis.raise_for_status()
        crisis_id = crisis.json()["id"]
        draft = communicator.post(
            f"/api/v1/crises/{crisis_id}/bulletins",
            json={"title": TITLE, "body": BODY, "audiences": ["public"]},
        )
        draft.raise_for_status()
        bulletin_id = draft.json()["id"]
        communicator.post(f"/api/v1/bulletins/{bulletin_id}/submit").raise_for_status()
        validator.post(f"/api/v1/bulletins/{bulletin_id}/approve").raise_for_status()
        communicator.post(f"/api/v1/bulletins/{bulletin_id}/publish").raise_for_status()
    with _api(server, "admin") as admin:
        contact = admin.post(
            "/api/v1/contacts",
            json={
                "audience": "media",
                "function": "journaliste",
                "last_name": "DURAND",
                "area_level": "departement",
                "area_code": "80",
                "channels": [{"kind": "email", "address": "lise@sandbox.tocsin.test"}],
            },
        )
        contact.raise_for_status()
    return crisis_id, bulletin_id, contact.json()["id"]


def _violations_on(page: Page, server: LiveServer, paths: list[str]) -> list[str]:
    found = []
    for path in paths:
        response = page.goto(f"{server.url}{path}")
        assert response is not None
        if response.headers.get("content-security-policy") != CONTENT_SECURITY_POLICY:
            found.append(f"{path}: no Content-Security-Policy header")
        page.wait_for_function(LIVE_REGIONS_SETTLED)
        found += [f"{path}: {v}" for v in page.evaluate("window.__violations")]
    return found


def test_no_page_breaks_the_content_security_policy_for_any_role(
    browser: Browser, live_server: LiveServer
) -> None:
    crisis_id, bulletin_id, contact_id = _published_bulletin(live_server)
    public = ["/connexion", f"/public/bulletins/{bulletin_id}", "/confirmer/jeton-inconnu"]
    shared = [
        "/",
        f"/evenements/{crisis_id}",
        f"/evenements/{crisis_id}/main-courante",
        "/main-courante",
        f"/evenements/{crisis_id}/bilan",
        f"/communiques/{bulletin_id}",
        f"/communiques/{bulletin_id}/suivi",
        "/fiches-reflexes",
        "/fiches-reflexes/crue",
        "/canaux",
        "/astreinte",
        "/page-inexistante",
    ]
    by_role = {
        "": public,
        "prefet": [*shared, "/evenements/nouveau"],
        "communicant": [
            *shared,
            f"/evenements/{crisis_id}/communiques/nouveau",
            f"/communiques/{bulletin_id}/modifier",
        ],
        "operateur": shared,
        "admin": [
            "/annuaire",
            f"/annuaire/{contact_id}",
            "/annuaire/import",
            "/canaux",
            "/astreinte",
            "/astreinte/import",
            "/utilisateurs",
            "/utilisateurs/1",
        ],
    }
    violations = []
    for login, paths in by_role.items():
        context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
        context.add_init_script(COLLECT_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if login:
            log_in(page, live_server, login)
        violations += [
            f"{login or 'anonyme'} {v}" for v in _violations_on(page, live_server, paths)
        ]
        context.close()
    assert violations == []


def test_the_tracking_bars_draw_without_a_style_attribute(
    page: Page, live_server: LiveServer
) -> None:
    _, bulletin_id, _ = _published_bulletin(live_server)
    log_in(page, live_server, "communicant")
    page.goto(f"{live_server.url}/communiques/{bulletin_id}/suivi")
    bar = page.locator("svg.tocsin-bar rect").first
    assert float(bar.get_attribute("width") or 0) > 0
    assert page.locator(".tocsin-bar [style]").count() == 0
