"""Every page renders under the strict CSP (no inline script, no handler, no style attribute)
and passes axe-core's accessibility rules, for every role."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, Response

from crisis.app.security_headers import CONTENT_SECURITY_POLICY
from tests.browser.accessibility import axe_violations
from tests.browser.conftest import LiveServer, log_in
from tests.browser.site import published_site, sweep

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


def _violations(page: Page, response: Response) -> list[str]:
    found = []
    if response.headers.get("content-security-policy") != CONTENT_SECURITY_POLICY:
        found.append("no Content-Security-Policy header")
    return found + page.evaluate("window.__violations") + axe_violations(page)


def test_no_page_breaks_the_content_security_policy_or_an_accessibility_rule_for_any_role(
    browser: Browser, live_server: LiveServer
) -> None:
    assert sweep(browser, live_server, _violations, init_script=COLLECT_VIOLATIONS) == []


def test_the_tracking_bars_draw_without_a_style_attribute(
    page: Page, live_server: LiveServer
) -> None:
    bulletin_id = published_site(live_server).bulletin_id
    log_in(page, live_server, "communicant")
    page.goto(f"{live_server.url}/communiques/{bulletin_id}/suivi")
    bar = page.locator("svg.tocsin-bar rect").first
    assert float(bar.get_attribute("width") or 0) > 0
    assert page.locator(".tocsin-bar [style]").count() == 0
