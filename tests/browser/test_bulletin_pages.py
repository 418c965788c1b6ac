from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, log_in
from tests.browser.site import token as site_token

pytestmark = pytest.mark.browser


def _declared(server: LiveServer) -> int:
    """A flood at Abbeville declared by the prefect; its id."""
    token = site_token(server, "prefet")
    crisis = httpx.post(
        f"{server.url}/api/v1/crises",
        json={"title": "Crue à Abbeville", "kind": "crue", "mode": "real", "communes": ["80001"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    crisis.raise_for_status()
    crisis_id: int = crisis.json()["id"]
    return crisis_id


def test_a_communicator_composes_from_the_playbook_a_validator_approves_and_it_is_published(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    crisis_id = _declared(live_server)

    log_in(page, live_server, "communicant")
    page.goto(f"{live_server.url}/evenements/{crisis_id}")
    page.get_by_role("link", name="Rédiger un communiqué").first.click()
    page.get_by_label("Partir d'un modèle").select_option("premiere-information-public")
    page.get_by_role("button", name="Utiliser ce modèle").click()
    body = page.get_by_role("textbox", name="Texte")  # not the X thread checkbox
    expect(body).to_contain_text("Communes concernées : Abbeville")
    text = body.input_value()
    # The situation comes as the prefect declared it; the communicator makes it precise.
    assert "[à compléter" not in text and "Crue à Abbeville." in text
    body.fill(text.replace("Crue à Abbeville.", "la Somme déborde dans la basse ville.", 1))
    expect(page.locator("#preview")).to_contain_text("Page publique")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_text("Brouillon n°")).to_be_visible()
    bulletin_url = page.url
    page.get_by_role("button", name="Soumettre à validation").click()
    expect(page.locator("#bulletin-status")).to_have_text("Soumis à validation")
    expect(page.get_by_role("button", name="Valider le communiqué")).to_have_count(0)

    validator_context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    validator = validator_context.new_page()
    log_in(validator, live_server, "valideur")
    validator.goto(bulletin_url)
    validator.get_by_role("button", name="Valider le communiqué").click()
    expect(validator.locator("#bulletin-status")).to_have_text("Validé")
    validator_context.close()

    page.reload()
    page.get_by_role("link", name="Publier…").click()
    page.get_by_role("button", name="Confirmer et publier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suivi des envois")
    expect(page.get_by_role("row", name="Page publique")).to_be_visible()
    expect(page.locator("#tracking-total")).to_contain_text("envoyé 1")
    # Anyone reaches it from the public list, under its unguessable name, not its number.
    public = page.context.new_page()
    public.goto(f"{live_server.url}/public/bulletins")
    public.get_by_role("link", name="Crue de la Somme : consignes de sécurité").first.click()
    expect(public.get_by_text("la Somme déborde dans la basse ville.")).to_be_visible()
    assert public.url.rsplit("/", 1)[-1] != bulletin_url.rsplit("/", 1)[-1]
    public.goto(f"{live_server.url}/public/bulletins/{bulletin_url.rsplit('/', 1)[-1]}")
    expect(public.get_by_role("heading", level=1)).to_have_text("Erreur 404")


def test_the_mayors_template_leaves_the_public_out_and_unticking_the_public_unticks_its_page(
    page: Page, live_server: LiveServer
) -> None:
    crisis_id = _declared(live_server)
    log_in(page, live_server, "communicant")
    page.goto(f"{live_server.url}/evenements/{crisis_id}/communiques/nouveau")
    page.get_by_label("Partir d'un modèle").select_option("premiere-information-elus")
    page.get_by_role("button", name="Utiliser ce modèle").click()
    audiences = page.locator("#audiences-fieldset")
    expect(audiences.get_by_label("Élus")).to_be_checked()
    expect(audiences.get_by_label("Public", exact=True)).not_to_be_checked()
    public_page = page.get_by_label("Page publique", exact=True)
    expect(public_page).not_to_be_checked()
    body = page.get_by_role("textbox", name="Texte")
    assert "/public/" not in body.input_value()
    # Ticking the public then unticking it takes its page away with it.
    page.locator("label[for=audience-public]").click()  # the DSFR label covers the box
    page.locator("label[for=channel-public_page]").click()
    expect(public_page).to_be_checked()
    page.locator("label[for=audience-public]").click()
    expect(public_page).not_to_be_checked()
    expect(page.locator("#preview")).not_to_contain_text("Page publique")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_text("Brouillon n°")).to_be_visible()
    expect(page.get_by_role("link", name="Page publique")).to_have_count(0)


def _user(server: LiveServer, login: str, *roles: str, email: str = "") -> str:
    """A new user of the live server (logged in by `log_in`); their API token."""
    return server.add_user(login, *roles, email=email)


def _draft(server: LiveServer, author_token: str, title: str) -> int:
    prefect = site_token(server, "prefet")
    crisis = httpx.post(
        f"{server.url}/api/v1/crises",
        json={"title": title, "kind": "crue", "mode": "real", "communes": ["80001"]},
        headers={"Authorization": f"Bearer {prefect}"},
    )
    crisis.raise_for_status()
    body = (
        "Situation (14 h) : la Somme déborde à Abbeville.\nCommunes concernées : Abbeville.\n"
        "Consignes : ne vous engagez pas sur les routes inondées.\n"
        "Pour en savoir plus : https://www.somme.gouv.fr\nProchain point : 18 h."
    )
    created = httpx.post(
        f"{server.url}/api/v1/crises/{crisis.json()['id']}/bulletins",
        json={"title": title, "body": body, "audiences": ["officials"], "channels": ["email"]},
        headers={"Authorization": f"Bearer {author_token}"},
    )
    created.raise_for_status()
    bulletin_id: int = created.json()["id"]
    return bulletin_id


def test_a_cabinet_member_who_edits_a_colleagues_bulletin_is_offered_no_validation(
    page: Page, live_server: LiveServer
) -> None:
    author = _user(live_server, "auteur", "communicator")
    _user(live_server, "cabinet", "communicator", "validator")
    bulletin_id = _draft(live_server, author, "Crue : texte d'un collègue")

    log_in(page, live_server, "cabinet")
    page.goto(f"{live_server.url}/communiques/{bulletin_id}")
    expect(page.locator("#bulletin-author")).to_contain_text("auteur")
    page.get_by_role("link", name="Modifier").click()
    body = page.get_by_role("textbox", name="Texte")
    body.fill(body.input_value().replace("la Somme déborde", "la Somme déborde fortement"))
    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.locator("#bulletin-editors")).to_have_text("cabinet")
    page.get_by_role("button", name="Soumettre à validation").click()
    expect(page.locator("#bulletin-status")).to_have_text("Soumis à validation")
    expect(page.get_by_role("button", name="Valider le communiqué")).to_have_count(0)
    expect(page.get_by_role("button", name="Rejeter")).to_have_count(0)
    expect(page.locator("#four-eyes-hint")).to_contain_text("Vous avez modifié ce texte")


def test_a_communicator_sends_a_test_to_their_own_address_chosen_among_their_channels(
    page: Page, live_server: LiveServer
) -> None:
    token = _user(live_server, "redacteur", "communicator", email="redacteur@prefecture.test")
    bulletin_id = _draft(live_server, token, "Crue : essai avant validation")

    log_in(page, live_server, "redacteur")
    page.goto(f"{live_server.url}/communiques/{bulletin_id}")
    own = page.get_by_role("radio", name="Courriel : redacteur@prefecture.test")
    expect(own).to_be_checked()
    expect(page.get_by_role("textbox", name="M'envoyer un test")).to_have_count(0)
    page.get_by_role("button", name="Envoyer le test").click()
    expect(page.get_by_text("Test envoyé à redacteur@prefecture.test")).to_be_visible()
    journal = httpx.get(
        f"{live_server.url}/api/v1/crises/{_crisis_of(live_server, token, bulletin_id)}/journal",
        headers={"Authorization": f"Bearer {token}"},
    )
    [sent] = [e for e in journal.json()["items"] if e["action"] == "bulletin.test_sent"]
    assert sent["payload"]["address"] == "r…@prefecture.test"


def _crisis_of(server: LiveServer, token: str, bulletin_id: int) -> int:
    bulletin = httpx.get(
        f"{server.url}/api/v1/bulletins/{bulletin_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    crisis_id: int = bulletin.json()["crisis_id"]
    return crisis_id
