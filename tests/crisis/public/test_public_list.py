"""The public pages (issue 21 item 3): the current situation first — an update standing for
what it updates, a cancellation shown as such — then the archive; small pages with no script
and no cookie; and nothing but the public id, `mode`, `commune` and `lang` is read."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from crisis.app.db import Database
from crisis.cell import lifecycle
from tests.crisis.public.support import story
from tests.support import FrozenClock

STATIC = Path(__file__).resolve().parents[3] / "crisis/app/static"


def _section(html: str, section_id: str) -> str:
    found = re.search(rf'<section aria-labelledby="{section_id}">(.*?)</section>', html, re.S)
    assert found, section_id
    return found.group(1)


async def test_the_list_shows_the_situation_in_force_first_then_the_archive(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    told = await story(db, clock)
    html = (await client.get("/public/bulletins")).text
    current, archive = _section(html, "en-cours"), _section(html, "archives")
    assert "Crue : fin de l&#39;alerte" in current and "Annulation" in current
    assert "Annule « " in current and f"/public/bulletins/{told.update}" in current
    assert "premières consignes" not in current and "point de 15 h" in current  # the link only
    assert archive.index("point de 15 h") < archive.index("premières consignes")
    assert "Annulé par" in archive and "Remplacé par" in archive
    assert "note aux maires" not in html and told.mayors not in html


async def test_a_replaced_bulletins_page_says_so_and_links_what_replaced_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    told = await story(db, clock)
    first = (await client.get(f"/public/bulletins/{told.alert}")).text
    assert "Ce communiqué a été remplacé." in first
    assert f'href="/public/bulletins/{told.update}"' in first
    update = (await client.get(f"/public/bulletins/{told.update}")).text
    assert "Ce communiqué a été annulé." in update
    assert f'met à jour « <a href="/public/bulletins/{told.alert}">' in update
    cancel = (await client.get(f"/public/bulletins/{told.cancel}")).text
    assert "Ce communiqué annule une alerte précédente." in cancel
    assert f'href="/public/cap/{told.cancel}.xml"' in cancel


async def test_a_closed_crisis_leaves_only_an_archive(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    from crisis.actors import SYSTEM

    told = await story(db, clock)
    async with db.transaction() as session:
        await lifecycle.close(session, actor=SYSTEM, crisis_id=told.crisis_id, now=clock.now())
    html = (await client.get("/public/bulletins")).text
    assert "Aucun communiqué en vigueur en ce moment." in _section(html, "en-cours")
    assert "Événement terminé." in _section(html, "archives")


async def test_a_bulletin_page_is_light_readable_without_script_and_sets_no_cookie(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    told = await story(db, clock)
    page = await client.get(f"/public/bulletins/{told.alert}")
    assert page.status_code == 200 and "set-cookie" not in page.headers
    assert "<script" not in page.text and "style=" not in page.text
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert stylesheets == ["/static/tocsin/public.css"]
    css = await client.get(stylesheets[0])
    assert css.status_code == 200 and "@font-face" not in css.text
    weight = len(page.content) + len(css.content)
    assert weight < 50_000, weight
    assert '<html lang="fr">' in page.text and "<h1>" in page.text
    assert 'href="#contenu"' in page.text and 'id="contenu"' in page.text


async def test_malformed_public_values_are_refused_and_unknown_ones_ignored(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    told = await story(db, clock)
    for url in (
        "/public/bulletins?mode=reel",
        "/public/bulletins?commune=amiens",
        "/public/bulletins?lang=xx",
        f"/public/bulletins/{told.alert}?mode=" + "e" * 500,
        "/public/feed.atom?commune=8000",
        "/public/feed.atom?mode=drill",
        "/public/feed.atom?lang=de",
        f"/public/cap/{told.alert}.xml?mode=1",
    ):
        answer = await client.get(url)
        assert answer.status_code == 400, url
        assert "set-cookie" not in answer.headers
    for url in (
        "/public/bulletins/inconnu",
        "/public/bulletins/" + "A" * 300,
        "/public/cap/AAAAAAAAAAAAAAAAAAAAAA.xml",
        "/public/cap/%27%20OR%201=1.xml",
    ):
        assert (await client.get(url)).status_code == 404, url
    plain = await client.get("/public/feed.atom")
    noisy = await client.get("/public/feed.atom?utm_source=x&debug=1&commune=")
    assert noisy.status_code == 200 and noisy.content == plain.content
    assert (await client.get("/public/bulletins?lang=fr&commune=2A004")).status_code == 200


async def test_a_commune_list_shows_that_communes_bulletins_and_offers_its_own_feed(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    await story(db, clock)  # the first bulletin names Amiens; the others only Abbeville
    html = (await client.get("/public/bulletins?commune=80021")).text
    assert "Communiqués de la préfecture de la Somme — Amiens" in html
    items = re.findall(r"<h3><a [^>]*>([^<]*)</a></h3>", html)
    assert items == ["Crue : premières consignes"]  # shown as replaced, the update linked
    assert 'href="/public/feed.atom?commune=80021"' in html
