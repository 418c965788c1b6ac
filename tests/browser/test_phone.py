"""Issue 18 items 9 and 13: every page fits a 390 px phone, its skip links lead somewhere, it
passes axe-core's accessibility rules at that width, and the DSFR « Menu » button opens the
navigation, account and logout included."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.accessibility import axe_violations
from tests.browser.conftest import LiveServer
from tests.browser.layout import LAYOUT_PROBLEMS
from tests.browser.site import PHONE, context_as, published_site, sweep
from tests.browser.test_content_security_policy import COLLECT_VIOLATIONS

pytestmark = pytest.mark.browser


def test_no_page_is_wider_than_a_phone_breaks_an_accessibility_rule_or_skips_nowhere(
    browser: Browser, live_server: LiveServer
) -> None:
    def problems_on(page: Page, _response: Response) -> list[str]:
        return list(page.evaluate(LAYOUT_PROBLEMS)) + axe_violations(page)

    problems = sweep(browser, live_server, problems_on, viewport=PHONE)
    assert problems == [], "\n".join(problems)


def test_on_a_phone_the_menu_button_opens_the_navigation_and_logout_is_reachable(
    browser: Browser, live_server: LiveServer
) -> None:
    context, page = context_as(
        browser, live_server, "communicant", viewport=PHONE, init_script=COLLECT_VIOLATIONS
    )
    navigation = page.get_by_role("navigation", name="Menu principal")
    logout = page.get_by_role("button", name="Se déconnecter")
    expect(navigation).to_be_hidden()
    expect(logout).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(navigation.get_by_role("link", name="Main courante")).to_be_visible()
    expect(page.get_by_role("link", name="Mon compte (communicant)")).to_be_visible()
    page.get_by_role("button", name="Fermer").click()
    expect(navigation).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    logout.click()
    page.wait_for_url(f"{live_server.url}/connexion")
    assert page.evaluate("window.__violations") == []
    context.close()


WATCH_MENU_LINKS = """
window.__menuRewrites = 0;
document.addEventListener("DOMContentLoaded", () => {
  const links = document.querySelector(".fr-header__menu-links");
  if (links) new MutationObserver(() => { window.__menuRewrites += 1; })
    .observe(links, { childList: true, subtree: true });
});
"""


def test_the_phone_menu_holds_the_account_and_logout_as_served_so_no_script_rewrites_it(
    browser: Browser, live_server: LiveServer
) -> None:
    """DSFR's script copies the header's tools into the phone menu through innerHTML when the
    two differ: served equal, nothing is parsed again after load (a copy would carry any style
    set meanwhile on the tools into a style attribute, which the CSP refuses)."""
    context, page = context_as(
        browser, live_server, "communicant", viewport=PHONE, init_script=WATCH_MENU_LINKS
    )
    page.reload()
    tools = page.locator(".fr-header__tools-links")
    expect(tools).to_have_attribute("data-fr-js-header-links", "true")  # DSFR has compared
    page.get_by_role("button", name="Menu").click()
    menu = page.locator(".fr-header__menu-links")
    expect(menu.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert page.evaluate("window.__menuRewrites") == 0
    context.close()


def test_on_a_desktop_the_navigation_shows_without_a_menu_button(
    browser: Browser, live_server: LiveServer
) -> None:
    context, page = context_as(browser, live_server, "communicant")
    expect(page.get_by_role("navigation", name="Menu principal")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    context.close()


def test_the_journal_table_scrolls_with_the_keyboard(
    browser: Browser, live_server: LiveServer
) -> None:
    site = published_site(live_server)
    context, page = context_as(browser, live_server, "prefet", viewport=PHONE)
    page.goto(f"{live_server.url}/evenements/{site.crisis_id}/main-courante")
    table = page.get_by_role("region", name="Main courante (tableau défilant)")
    table.focus()
    expect(table).to_be_focused()
    before = table.evaluate("el => el.scrollLeft")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("before => document.activeElement.scrollLeft > before", arg=before)
    context.close()


def test_serve_on_a_port_without_a_base_url_writes_its_links_on_that_port(
    live_server: LiveServer,
) -> None:
    """The live server runs `tocsin serve --port P` with no TOCSIN_BASE_URL."""
    notice = httpx.get(f"{live_server.url}/mentions-legales").text
    assert f"{live_server.url}</span>" in notice
