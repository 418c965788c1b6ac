"""« Mon compte » in a real browser: first login, password change, sessions and API tokens."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser


def _log_in(page: Page, server: LiveServer, login: str, password: str) -> None:
    page.goto(f"{server.url}/connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def _choose(page: Page, field: str, value: str) -> None:
    page.get_by_label(field, exact=True).fill(value)


def test_a_new_user_must_replace_the_one_time_password_before_anything_else(
    page: Page, live_server: LiveServer
) -> None:
    out = live_server.cli("users", "add", "nouvelle-recrue", "--role", "communicator")
    one_time = out.stdout.strip().splitlines()[-1]
    _log_in(page, live_server, "nouvelle-recrue", one_time)
    page.wait_for_url(f"{live_server.url}/mon-compte/mot-de-passe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir votre mot de passe")
    page.goto(f"{live_server.url}/main-courante")  # nothing else opens meanwhile
    page.wait_for_url(f"{live_server.url}/mon-compte/mot-de-passe")
    _choose(page, "Nouveau mot de passe Au moins 12 caractères.", "recrue-mot-de-passe")
    _choose(page, "Nouveau mot de passe (confirmation)", "recrue-mot-de-passe")
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("alert").filter(has_text="Mot de passe changé")).to_be_visible()


def test_a_user_changes_password_revokes_a_session_and_a_token_from_mon_compte(
    browser: Browser, page: Page, live_server: LiveServer
) -> None:
    out = live_server.cli("users", "add", "agent-compte", "--role", "operator")
    one_time = out.stdout.strip().splitlines()[-1]
    _log_in(page, live_server, "agent-compte", one_time)
    _choose(page, "Nouveau mot de passe Au moins 12 caractères.", "premier-mot-de-passe")
    _choose(page, "Nouveau mot de passe (confirmation)", "premier-mot-de-passe")
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    page.wait_for_url(f"{live_server.url}/")

    # A second browser (another workstation) opens a session of the same user.
    other = browser.new_context(locale="fr-FR").new_page()
    _log_in(other, live_server, "agent-compte", "premier-mot-de-passe")
    other.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="Mon compte (agent-compte)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    revoke_buttons = page.get_by_role("button", name="Révoquer la session ouverte le")
    expect(revoke_buttons).to_have_count(2)
    page.locator("tr", has_not_text="Cette session").get_by_role("button").click()
    expect(page.get_by_role("alert").filter(has_text="Session révoquée")).to_be_visible()
    expect(revoke_buttons).to_have_count(1)
    other.reload()
    other.wait_for_url(f"{live_server.url}/connexion")
    other.context.close()

    # An API token, created here, shown once, then revoked.
    page.get_by_label("Libellé du nouveau jeton").fill("script de veille")
    page.get_by_role("button", name="Créer un jeton d'API").click()
    token = page.locator("#nouveau-jeton").inner_text()
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{live_server.url}/api/v1/crises", headers=bearer).status_code == 200
    page.get_by_role("button", name="Révoquer le jeton « script de veille »").click()
    expect(page.get_by_role("alert").filter(has_text="Jeton d'API révoqué")).to_be_visible()
    assert httpx.get(f"{live_server.url}/api/v1/crises", headers=bearer).status_code == 401

    # The password, changed from the account page: the old one opens nothing any more.
    page.get_by_label("Mot de passe actuel").fill("premier-mot-de-passe")
    _choose(page, "Nouveau mot de passe Au moins 12 caractères.", "second-mot-de-passe")
    _choose(page, "Nouveau mot de passe (confirmation)", "second-mot-de-passe")
    page.get_by_role("button", name="Changer le mot de passe").click()
    expect(page.get_by_role("alert").filter(has_text="Mot de passe changé")).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").click()
    _log_in(page, live_server, "agent-compte", "premier-mot-de-passe")
    expect(
        page.get_by_role("alert").filter(has_text="Identifiant ou mot de passe incorrect.")
    ).to_be_visible()
    _log_in(page, live_server, "agent-compte", "second-mot-de-passe")
    page.wait_for_url(f"{live_server.url}/")


def test_on_a_phone_the_account_page_and_logout_are_reachable_from_the_menu(
    browser: Browser, live_server: LiveServer
) -> None:
    live_server.cli("users", "add", "agent-mobile", "--role", "trainer")
    phone = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    reset = live_server.cli("users", "reset", "agent-mobile")
    _log_in(page, live_server, "agent-mobile", reset.stdout.strip().splitlines()[-1])
    _choose(page, "Nouveau mot de passe Au moins 12 caractères.", "mobile-mot-de-passe")
    _choose(page, "Nouveau mot de passe (confirmation)", "mobile-mot-de-passe")
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("button", name="Menu").click()  # DSFR hides the header tools on a phone
    page.get_by_role("link", name="Mon compte (agent-mobile)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    expect(page.get_by_text("rôles : Formateur")).to_be_visible()
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{live_server.url}/connexion")
    phone.close()
