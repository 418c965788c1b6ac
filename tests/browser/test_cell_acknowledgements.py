"""Issue 15 item 3 in the browser: a member records their own presence in a role they hold; the
cabinet records a call answered by phone « pour le compte de » a paged person, shown as such."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, log_in
from tests.browser.site import token as site_token

pytestmark = pytest.mark.browser

PAGED = "Valérie Astreinte-Navigateur"


def _on_call_validator(server: LiveServer) -> None:
    """A validator on duty now, so that ordering the cell pages her."""
    token = site_token(server, "admin")
    headers = {"Authorization": f"Bearer {token}"}
    first, last = PAGED.split(" ", 1)
    contact = httpx.post(
        f"{server.url}/api/v1/contacts",
        headers=headers,
        json={
            "audience": "staff",
            "function": "agent_permanence",
            "first_name": first,
            "last_name": last,
            "area_level": "departement",
            "area_code": "80",
            "channels": [{"kind": "email", "address": "valerie.navigateur@somme.gouv.fr"}],
        },
    )
    assert contact.status_code == 201, contact.text
    now = datetime.now(UTC)
    shift = httpx.post(
        f"{server.url}/api/v1/roster/shifts",
        headers=headers,
        json={
            "role": "validator",
            "contact_id": contact.json()["id"],
            "name": PAGED,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
        },
    )
    assert shift.status_code == 201, shift.text


def test_the_cabinet_records_a_phone_answer_for_a_paged_person_and_a_member_only_their_own_role(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    _on_call_validator(live_server)
    log_in(page, live_server, "prefet")
    page.get_by_role("link", name="Déclarer un événement").click()
    page.get_by_label("Intitulé").fill("Glissement de terrain à Ault")
    page.get_by_label("Type d'événement").select_option("crue")
    page.get_by_label("Communes touchées").fill("Ault")
    page.get_by_role("button", name="Déclarer l'événement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Glissement de terrain à Ault")
    crisis_url = page.url

    page.get_by_label("Qui répond").select_option(
        label=f"pour le compte de {PAGED} (Valideur d'astreinte)"
    )
    page.get_by_label("Présent comme").select_option("validator")
    page.get_by_role("button", name="Enregistrer la présence").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Réponse par téléphone enregistrée par prefet pour {PAGED}."
    )
    expect(page.locator(".tocsin-cell-list")).to_contain_text(
        f"(enregistré par prefet pour {PAGED})"
    )

    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    member = context.new_page()
    member.set_default_timeout(10_000)
    log_in(member, live_server, "communicant")
    member.goto(crisis_url)
    expect(member.get_by_label("Qui répond")).to_have_count(0)
    member.get_by_label("Présent comme").select_option("validator")
    member.get_by_role("button", name="Enregistrer la présence").click()
    expect(member.get_by_role("alert")).to_contain_text(
        "Vous n'avez pas le rôle « Valideur d'astreinte » : réponse refusée."
    )
    member.get_by_label("Présent comme").select_option("communication")
    member.get_by_role("button", name="Enregistrer la présence").click()
    expect(member.get_by_role("alert")).to_contain_text("Votre présence est enregistrée.")
    expect(member.locator(".tocsin-cell-list")).to_contain_text(
        re.compile(r"Chargé de communication d'astreinte : communicant — présent")
    )
    member.get_by_role("button", name="Déclarer la cellule opérationnelle").click()
    expect(member.get_by_role("alert")).to_contain_text("Cellule déclarée opérationnelle")
    context.close()
