"""Issue 20 in the browser: an operator answers a caller from the CIP console with the keyboard
alone — time stamps with F2/F3/F4, the FAQ searched as typed and taken with Enter, the draft
surviving a reload, Ctrl+Enter to save — and the call reaches the cabinet's figures; once the
CIP is closed, the operator writes a debrief from the console."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.accessibility import axe_violations
from tests.browser.conftest import LiveServer, log_in
from tests.browser.site import api, context_as

pytestmark = pytest.mark.browser


def _operator(server: LiveServer, login: str) -> httpx.Client:
    if login not in server.users:
        server.add_user(login, "operator")
    return api(server, login)


def _open_cip(server: LiveServer) -> int:
    """A crisis whose CIP is ordered and open, a validated FAQ entry, `operateur` in post."""
    with api(server, "prefet") as prefect, api(server, "communicant") as com:
        body = {"title": "Crue CIP", "kind": "crue", "mode": "real", "communes": ["80001"]}
        crisis_id = prefect.post("/api/v1/crises", json=body).json()["id"]
        base = f"/api/v1/crises/{crisis_id}/cip"
        prefect.post(base, json={"number": "0 800 10 02 00"}).raise_for_status()
        for question, answer in (
            ("Les écoles d'Abbeville sont-elles fermées ?", "Oui, fermées jusqu'à lundi inclus."),
            ("L'eau du robinet est-elle potable ?", "Oui, l'eau reste potable."),
        ):
            body = {"question": question, "answer": answer, "communes": ["80001"]}
            entry = com.post(f"{base}/faq", json=body)
            entry.raise_for_status()
            prefect.post(f"{base}/faq/{entry.json()['id']}/approve").raise_for_status()
        staff = [("cip-cheffe", "head"), ("cip-op2", "operator"), ("operateur", "operator")]
        for login, role in staff:
            with _operator(server, login) as user:
                user.post(f"{base}/operators", json={"role": role}).raise_for_status()
        with _operator(server, "cip-cheffe") as head:
            head.post(f"{base}/open").raise_for_status()
    return int(crisis_id)


def test_an_operator_logs_a_call_with_the_keyboard_and_the_cabinet_sees_it(
    browser: Browser, live_server: LiveServer
) -> None:
    crisis_id = _open_cip(live_server)
    context, page = context_as(browser, live_server, "operateur")
    console = f"{live_server.url}/evenements/{crisis_id}/cip"
    page.goto(console)
    expect(page.get_by_role("heading", level=1)).to_contain_text("0 800 10 02 00")
    page.keyboard.press("F2")
    # the browser drops the seconds of a datetime-local value when they are zero
    expect(page.locator("#call-received_at")).to_have_value(
        re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$")
    )
    page.keyboard.press("F3")
    page.locator("#faq-search").focus()
    page.keyboard.type("ECOLE abbeville")
    expect(page.locator("#faq-count")).to_have_text("1 réponse")
    expect(page.get_by_text("L'eau du robinet est-elle potable ?")).to_be_hidden()
    page.keyboard.press("Enter")
    expect(page.locator("#call-answer")).to_have_value("Oui, fermées jusqu'à lundi inclus.")
    page.locator("#call-question").focus()
    page.keyboard.type("Mon fils va-t-il à l'école demain ?")
    page.reload()  # a reload loses nothing: the draft is kept locally until saved
    expect(page.locator("#call-question")).to_have_value("Mon fils va-t-il à l'école demain ?")
    expect(page.locator("#call-faq")).not_to_have_value("")
    page.keyboard.press("F4")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"\?appel=\d+"))
    expect(page.get_by_role("alert").first).to_contain_text("Appel enregistré")
    expect(page.locator("#call-question")).to_have_value("")
    page.reload()
    expect(page.locator("#call-question")).to_have_value("")
    assert axe_violations(page) == []
    context.close()
    cabinet, cabinet_page = context_as(browser, live_server, "prefet")
    cabinet_page.goto(f"{live_server.url}/evenements/{crisis_id}")
    expect(cabinet_page.locator('[data-figure="calls"]')).to_have_text("1")
    assert axe_violations(cabinet_page) == []
    cabinet.close()


def test_the_console_fits_a_laptop_screen_and_its_form_is_reached_by_tab(
    page: Page, live_server: LiveServer
) -> None:
    crisis_id = _open_cip(live_server)
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, live_server, "operateur")
    page.goto(f"{live_server.url}/evenements/{crisis_id}/cip")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1366
    page.locator("#call-commune").focus()
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "call-topic":
            break
    assert page.evaluate("() => document.activeElement.id") == "call-topic"


def test_once_the_prefect_closes_the_cip_an_operator_writes_a_debrief_from_the_console(
    page: Page, live_server: LiveServer
) -> None:
    crisis_id = _open_cip(live_server)
    with api(live_server, "prefet") as prefect:
        prefect.delete(f"/api/v1/crises/{crisis_id}/cip").raise_for_status()
    log_in(page, live_server, "operateur")
    page.goto(f"{live_server.url}/evenements/{crisis_id}/cip")
    form = page.locator("#cip-debrief-form")
    form.get_by_label("Appels difficiles").fill("Un appelant sourd : le SMS aurait aidé.")
    form.get_by_label("Besoins pour la prochaine fois").fill("Un poste de plus la nuit.")
    assert axe_violations(page) == []
    form.get_by_role("button", name="Enregistrer mon débriefing").click()
    expect(page.get_by_role("alert").first).to_contain_text("Débriefing enregistré")
    expect(page.locator("#cip-debrief-form")).to_have_count(0)
    expect(page.locator("#cip-debriefing")).to_contain_text("Un poste de plus la nuit.")


def test_a_call_logged_by_one_operator_appears_live_in_another_console_and_a_draft_stays(
    browser: Browser, live_server: LiveServer
) -> None:
    crisis_id = _open_cip(live_server)
    console = f"{live_server.url}/evenements/{crisis_id}/cip"
    watching, page = context_as(browser, live_server, "operateur")
    page.goto(console)
    expect(page.locator("#cip-live [data-figure='calls']")).to_have_text("0")
    page.locator("#call-question").fill("Brouillon : la route de Rue est-elle ouverte ?")
    page.locator("#call-question").focus()
    logging, other = context_as(browser, live_server, "cip-op2")
    other.goto(console)
    other.keyboard.press("F2")
    other.locator("#call-question").fill("Le pont d'Abbeville est-il fermé ?")
    other.keyboard.press("Control+Enter")
    other.wait_for_url(re.compile(r"\?appel=\d+"))
    expect(page.locator("#cip-recent-calls")).to_contain_text("Le pont d'Abbeville est-il fermé ?")
    expect(page.locator("#cip-live [data-figure='calls']")).to_have_text("1")
    expect(page.locator("#call-question")).to_have_value(
        "Brouillon : la route de Rue est-elle ouverte ?"
    )
    assert page.evaluate("() => document.activeElement.id") == "call-question"
    logging.close()
    watching.close()
