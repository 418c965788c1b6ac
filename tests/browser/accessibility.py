"""axe-core's WCAG 2.1 A and AA rules (RGAA's ground), run in a page by the browser sweeps.

axe-core comes from npm (devDependencies, never served) and is evaluated through the browser's
debugging protocol: the page's strict CSP stays as it is served."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserContext, Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  const where = (v) => v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
  return result.violations.map((v) => `axe ${v.id} (${v.impact}) : ${v.help} — ${where(v)}`);
}"""


def preload_axe(context: BrowserContext) -> None:
    """axe-core in every page the context opens, before the page's own scripts (through the
    debugging protocol as well): a sweep sends its 500 kB once per context, not once per page
    (60 ms each, 4 s a sweep)."""
    if AXE.exists():
        context.add_init_script(path=AXE)


def axe_violations(page: Page) -> list[str]:
    """What axe-core finds on the page as it stands."""
    if not AXE.exists():
        return ["axe-core manque : lancez « npm ci » (make install le fait)"]
    if page.evaluate("() => typeof axe === 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[str] = page.evaluate(RUN_AXE, RULES)
    return found
