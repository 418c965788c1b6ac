"""The composer writes a bulletin's English and easy-to-read versions (issue 21): optional
fields of the form, judged like the rest (each problem names its field), shown to the
validator on the bulletin's page and filled back when it is edited."""

from __future__ import annotations

import re
from html import unescape

import httpx

from crisis.app.db import Database
from tests.crisis.app.test_composer_voice import GOOD, _composer, _problems
from tests.crisis.app.web_session import csrf_of
from tests.support import FrozenClock

PUBLIC = GOOD | {"audiences": ["public"], "channels": ["public_page"]}
VERSIONS = {
    "title_en": "Flooding in Abbeville",
    "body_en": "The Somme is overflowing.\r\nInstructions: stay at home.",
    "title_falc": "La Somme déborde",
    "body_falc": "L’eau monte.\r\nRestez chez vous.",
}


async def test_the_versions_typed_in_the_composer_are_saved_and_shown_to_the_validator(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, csrf = await _composer(client, db, clock)
    form = await client.get(f"/evenements/{crisis_id}/communiques/nouveau")
    assert 'name="title_en"' in form.text and 'name="body_falc"' in form.text
    data = {"csrf_token": csrf, "strategy": "all"} | PUBLIC | VERSIONS
    saved = await client.post(f"/evenements/{crisis_id}/communiques/nouveau", data=data)
    assert saved.status_code == 303, saved.text
    bulletin_id = saved.headers["location"].rsplit("/", 1)[1]
    page = unescape((await client.get(f"/communiques/{bulletin_id}")).text)
    english = re.search(r'<div id="version-en" lang="en">(.*?)</div>', page, re.S)
    assert english is not None and "Flooding in Abbeville" in english.group(1)
    assert "The Somme is overflowing.\nInstructions: stay at home." in english.group(1)
    assert 'id="version-falc" lang="fr"' in page and "Restez chez vous." in page
    edit = unescape((await client.get(f"/communiques/{bulletin_id}/modifier")).text)
    assert 'value="Flooding in Abbeville"' in edit and "L’eau monte.\nRestez chez vous." in edit


async def test_a_half_written_version_is_refused_by_the_save_as_the_preview_says(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id, csrf = await _composer(client, db, clock)
    half = PUBLIC | {"title_falc": "La Somme déborde", "csrf_token": csrf, "strategy": "all"}
    said = {
        step: (await client.post(f"/evenements/{crisis_id}/communiques/{step}", data=half))
        for step in ("apercu", "nouveau")
    }
    saved = said["nouveau"]
    assert saved.status_code == 422
    assert (
        _problems(said["apercu"].text, "preview-to-save")
        == _problems(saved.text)
        == [
            "Version facile à lire et à comprendre (FALC) : le texte est vide (un titre "
            "seul ne suffit pas)."
        ]
    )
    assert 'data-field="body_falc"><a href="#body_falc"' in saved.text
    assert csrf_of(saved.text)
