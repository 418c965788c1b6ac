"""Live regions in a real browser: a call note being typed and the focus survive a refresh
brought by another user's action, and a refresh with nothing changed touches nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import APIResponse, Page, Route, expect

from tests.browser.conftest import LiveServer, log_in
from tests.browser.site import api
from tests.crisis.bulletin_support import BODY, TITLE

pytestmark = pytest.mark.browser

NOTE = "Rappeler la mairie à 15 h, le maire est sur le terrain"
WATCH = """(selector) => {
  window.seen = [];
  const say = (r) => [r.type, r.attributeName, r.oldValue, r.target.nodeName].join(" ");
  const observer = new MutationObserver((records) => {
    for (const r of records) if (r.attributeName !== "aria-busy") window.seen.push(say(r));
  });
  const what = { subtree: true, childList: true, characterData: true, attributes: true };
  for (const node of document.querySelectorAll(selector))
    observer.observe(node, { ...what, characterDataOldValue: true, attributeOldValue: true });
}"""


def _to_call_bulletin(server: LiveServer) -> tuple[int, dict[str, int]]:
    """A bulletin to the mayors of a commune, two of whom can only be called."""
    with api(server, "admin") as admin:
        for name, number in (("APPELLE", "+33322000001"), ("AUTRE", "+33322000002")):
            contact = {
                "audience": "officials",
                "function": "maire",
                "last_name": name,
                "area_level": "commune",
                "area_code": "80002",
                "channels": [{"kind": "phone", "address": number}],
            }
            admin.post("/api/v1/contacts", json=contact).raise_for_status()
    with (
        api(server, "prefet") as prefect,
        api(server, "communicant") as communicator,
        api(server, "valideur") as validator,
    ):
        crisis = {"title": "Crue à appeler", "kind": "crue", "mode": "real", "communes": ["80002"]}
        crisis_id = prefect.post("/api/v1/crises", json=crisis).json()["id"]
        draft = communicator.post(
            f"/api/v1/crises/{crisis_id}/bulletins",
            json={"title": TITLE, "body": BODY, "audiences": ["officials"]},
        )
        draft.raise_for_status()
        bulletin_id = draft.json()["id"]
        communicator.post(f"/api/v1/bulletins/{bulletin_id}/submit").raise_for_status()
        validator.post(f"/api/v1/bulletins/{bulletin_id}/approve").raise_for_status()
        communicator.post(f"/api/v1/bulletins/{bulletin_id}/publish").raise_for_status()
        rows = communicator.get(f"/api/v1/bulletins/{bulletin_id}/deliveries?status=to_call")
        ids = {d["recipient_name"].split()[-1]: d["id"] for d in rows.json()["items"]}
    return bulletin_id, ids


def _on_its_tracking_page(page: Page, server: LiveServer) -> tuple[int, dict[str, int]]:
    """The communicant on the tracking page of a bulletin with two calls to make."""
    bulletin_id, deliveries = _to_call_bulletin(server)
    log_in(page, server, "communicant")
    page.goto(f"{server.url}/communiques/{bulletin_id}/suivi")
    page.wait_for_selector("body[data-live=on]", state="attached")  # the stream is open
    return bulletin_id, deliveries


DSFR_TABLES_READY = """() => [...document.querySelectorAll('.fr-table')]
  .every((table) => table.hasAttribute('data-fr-js-table'))"""


def test_a_call_note_being_typed_and_the_focus_survive_a_colleagues_call(
    page: Page, live_server: LiveServer
) -> None:
    _, deliveries = _on_its_tracking_page(page, live_server)
    note = page.locator(f"#note-{deliveries['APPELLE']}")
    note.click()
    note.press_sequentially(NOTE[:20])
    with api(live_server, "operateur") as operator:
        confirm = f"/api/v1/deliveries/{deliveries['AUTRE']}/confirm"
        operator.post(confirm, json={"note": "joint"}).raise_for_status()
    # the colleague's call reaches the page through the stream: the row called is gone
    expect(page.locator(f"#a-appeler-{deliveries['AUTRE']}")).to_have_count(0)
    note.press_sequentially(NOTE[20:])
    assert note.input_value() == NOTE
    assert page.evaluate("document.activeElement.id") == f"note-{deliveries['APPELLE']}"
    expect(page.locator("#tocsin-annonces")).to_have_text("Envois : 1 sur 2 délivrés.")


def test_a_refresh_with_nothing_changed_mutates_and_announces_nothing(
    page: Page, live_server: LiveServer
) -> None:
    _on_its_tracking_page(page, live_server)
    page.wait_for_function(DSFR_TABLES_READY)  # DSFR's own marks come first, not from a refresh
    page.evaluate(WATCH, "[data-live-src], #tocsin-annonces")
    page.evaluate("window.tocsinLive.refresh()")
    page.evaluate("window.tocsinLive.refresh()")
    seen = page.evaluate("window.seen")
    assert seen == [], "\n".join(seen)
    assert page.locator("[data-live-src][aria-live]").count() == 0


def test_an_older_refresh_answering_late_never_undoes_a_newer_one(
    page: Page, live_server: LiveServer
) -> None:
    bulletin_id, deliveries = _on_its_tracking_page(page, live_server)
    held: list[tuple[Route, APIResponse]] = []
    released: list[bool] = []

    def release_the_first_answer() -> None:
        if not released:
            route, stale = held[0]
            route.fulfill(response=stale)
            released.append(True)

    def answer(route: Route) -> None:
        if not held:  # answered now (the row still there), handed to the page only later
            held.append((route, route.fetch()))
        elif not released:  # a second fetch while the first is out: its answer lands first
            route.fulfill(response=route.fetch())
            release_the_first_answer()
        else:
            route.continue_()

    page.route(f"**/fragments/communiques/{bulletin_id}/suivi*", answer)
    page.evaluate("() => { window.tocsinLive.refresh(); }")
    page.wait_for_function("() => document.querySelector('[data-live-src]').ariaBusy === 'true'")
    with api(live_server, "operateur") as operator:
        confirm = f"/api/v1/deliveries/{deliveries['AUTRE']}/confirm"
        operator.post(confirm, json={"note": "joint"}).raise_for_status()
    # the stream tells the page, which wants the region again while the first answer is out
    expect(page.locator("#tocsin-annonces")).to_have_text(re.compile("Envois : 1 sur"))
    page.wait_for_timeout(500)  # room for a second fetch to go out, were one allowed to
    release_the_first_answer()
    page.wait_for_function("() => document.querySelector('[data-live-src]').ariaBusy === null")
    # read at once: a later change heard on the stream would mend a stale page, and hide it
    assert page.locator(f"#a-appeler-{deliveries['AUTRE']}").count() == 0


FRAGMENT_FETCHED = """() => performance.getEntriesByType('resource')
  .some((e) => e.name.includes('/fragments/communiques/'))
  && document.querySelector('[data-live-src]').ariaBusy === null"""


def test_a_refresh_that_failed_is_tried_again_until_the_region_shows_the_change(
    page: Page, live_server: LiveServer
) -> None:
    bulletin_id, deliveries = _on_its_tracking_page(page, live_server)
    page.evaluate("window.tocsinLive.refresh()")
    page.wait_for_function(FRAGMENT_FETCHED)  # the stream's first fetch too, answered as it came
    failed: list[str] = []

    def answer(route: Route) -> None:
        if not failed:  # the server restarting, say: one answer lost
            failed.append(route.request.url)
            route.fulfill(status=503, body="indisponible")
        else:
            route.continue_()

    page.route(f"**/fragments/communiques/{bulletin_id}/suivi*", answer)
    with api(live_server, "operateur") as operator:
        confirm = f"/api/v1/deliveries/{deliveries['AUTRE']}/confirm"
        operator.post(confirm, json={"note": "joint"}).raise_for_status()
    expect(page.locator(f"#a-appeler-{deliveries['AUTRE']}")).to_have_count(0, timeout=10_000)
    assert len(failed) == 1


def test_a_change_made_before_the_stream_opened_still_reaches_the_page(
    page: Page, live_server: LiveServer
) -> None:
    bulletin_id, deliveries = _to_call_bulletin(live_server)
    log_in(page, live_server, "communicant")
    held: list[Route] = []
    page.route("**/flux?*", lambda route: held.append(route))
    page.goto(f"{live_server.url}/communiques/{bulletin_id}/suivi")
    expect(page.locator(f"#a-appeler-{deliveries['AUTRE']}")).to_have_count(1)
    with api(live_server, "operateur") as operator:  # while the page's stream is not open yet
        confirm = f"/api/v1/deliveries/{deliveries['AUTRE']}/confirm"
        operator.post(confirm, json={"note": "joint"}).raise_for_status()
    page.wait_for_function("() => true")  # let the held request reach the handler
    assert len(held) == 1
    held[0].continue_()
    # the stream's first figures already count the call: the page fetches its regions then
    expect(page.locator(f"#a-appeler-{deliveries['AUTRE']}")).to_have_count(0)
