"""Issue 18 item 13: the DSFR footer's links lead to public pages, readable without logging in."""

from __future__ import annotations

import re

import httpx

FOOTER_LINK = re.compile(r'class="fr-footer__bottom-link" href="([^"]+)"[^>]*>([^<]+)<')


async def test_the_footer_links_lead_to_the_legal_pages_readable_without_login(
    client: httpx.AsyncClient,
) -> None:
    login_page = (await client.get("/connexion")).text
    links = dict(FOOTER_LINK.findall(login_page))
    assert links == {
        "/accessibilite": "Accessibilité : non conforme",
        "/mentions-legales": "Mentions légales",
        "/donnees-personnelles": "Données personnelles",
    }
    headings = {}
    for href in links:
        answer = await client.get(href)
        assert answer.status_code == 200, href
        assert 'id="pied-de-page"' in answer.text
        heading = re.search(r"<h1>([^<]+)</h1>", answer.text)
        assert heading is not None
        headings[href] = heading.group(1)
    assert headings == {
        "/accessibilite": "Déclaration d'accessibilité",
        "/mentions-legales": "Mentions légales",
        "/donnees-personnelles": "Données personnelles",
    }


async def test_the_accessibility_statement_says_not_compliant_until_an_audit_is_made(
    client: httpx.AsyncClient,
) -> None:
    text = (await client.get("/accessibilite")).text
    assert "<strong>non conforme</strong>" in text
    assert "l'audit n'a pas encore été réalisé" in text


async def test_the_personal_data_page_names_what_is_processed_and_how_to_erase_it(
    client: httpx.AsyncClient,
) -> None:
    text = (await client.get("/donnees-personnelles")).text
    for processed in (
        "Élus et médias de l'annuaire",
        "Agents de la préfecture",
        "journal des envois",
    ):
        assert processed in text
    assert "Mission d'intérêt public" in text
    assert "« Personne effacée »" in text
    assert "au plus tard après 12 h, ou 120 min sans activité" in text


async def test_the_legal_notice_names_the_prefecture_as_publisher_and_this_service_address(
    client: httpx.AsyncClient,
) -> None:
    text = (await client.get("/mentions-legales")).text
    assert "Préfecture de la Somme" in text and "le préfet de la Somme" in text
    assert "À compléter par l'exploitant" in text  # the host: the operator's to fill
    assert "http://127.0.0.1:8000" in text  # the test settings' base URL
