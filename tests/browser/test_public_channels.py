"""The public pages of issue 21 in a real browser: readable with scripts off, no CSP
violation, axe-core's accessibility rules passed, nothing wider than a phone, and the exercise
banner in exercise mode."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from crisis.app.security_headers import CONTENT_SECURITY_POLICY
from tests.browser.accessibility import axe_violations
from tests.browser.conftest import LiveServer
from tests.browser.layout import LAYOUT_PROBLEMS
from tests.browser.site import PHONE, VERSIONS, published_site
from tests.browser.test_content_security_policy import COLLECT_VIOLATIONS
from tests.crisis.bulletin_support import TITLE

pytestmark = pytest.mark.browser


def test_the_public_pages_pass_the_csp_and_axe_on_a_phone(
    browser: Browser, live_server: LiveServer
) -> None:
    site = published_site(live_server)
    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    problems: list[str] = []
    for path in (
        "/public/bulletins",
        f"/public/bulletins/{site.public_id}",
        "/public/bulletins?mode=exercise",
        "/public/bulletins/inconnu",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        if response.headers.get("content-security-policy") != CONTENT_SECURITY_POLICY:
            problems.append(f"{path}: no CSP")
        found = page.evaluate("window.__violations") + list(page.evaluate(LAYOUT_PROBLEMS))
        problems += [f"{path}: {p}" for p in found + axe_violations(page)]
    context.close()
    assert problems == [], "\n".join(problems)


def test_a_public_bulletin_reads_with_scripts_off_and_its_skip_link_leads_to_the_text(
    browser: Browser, live_server: LiveServer
) -> None:
    site = published_site(live_server)
    context = browser.new_context(locale="fr-FR", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/public/bulletins")
    page.get_by_role("link", name=TITLE).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert site.public_id in page.url
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    expect(page.get_by_role("link", name="Alerte au format CAP")).to_be_visible()
    context.close()


def test_the_language_switch_shows_each_version_in_its_language_and_passes_axe(
    browser: Browser, live_server: LiveServer
) -> None:
    site = published_site(live_server)
    context = browser.new_context(locale="fr-FR", viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/public/bulletins/{site.public_id}")
    switch = page.get_by_role("navigation", name="Langues de ce communiqué — Languages")
    expect(switch.get_by_role("link")).to_have_text(["Français", "English", "Facile à lire"])
    expect(switch.get_by_role("link", name="Français")).to_have_attribute("aria-current", "page")
    switch.get_by_role("link", name="English").click()
    assert page.url.endswith("?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text(VERSIONS["title_en"])
    expect(page.locator("#public-version")).to_have_attribute("lang", "en")
    expect(switch.get_by_role("link", name="English")).to_have_attribute("aria-current", "page")
    assert axe_violations(page) == []
    switch.get_by_role("link", name="Facile à lire").focus()  # reached by the keyboard too
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(VERSIONS["title_falc"])
    expect(page.locator("#public-version")).to_have_attribute("lang", "fr")
    context.close()
