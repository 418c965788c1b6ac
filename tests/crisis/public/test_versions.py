"""A bulletin may carry an English version and an easy-to-read French one (FALC): validated
with it (content hash), each its own CAP `info`, and a language switch on its public page
(issue 21)."""

from __future__ import annotations

import re

import httpx
import pytest

from crisis.app.db import Database
from crisis.bulletin import workflow as bulletins
from crisis.errors import InvalidInput
from crisis.vocabulary import BulletinStatus, CrisisMode
from tests.crisis import bulletin_support
from tests.crisis.bulletin_support import COMMUNICATOR, POLICY, declare, draft, published
from tests.crisis.public.support import CAP, public_id, text, valid_cap
from tests.support import FrozenClock, make_user

ENGLISH = {
    "title": "Flooding of the Somme in Abbeville",
    "body": "Situation (2 pm): the Somme is overflowing in Abbeville.\n"
    "Instructions: do not drive on flooded roads.\nNext update: 6 pm.",
}
EASY = {
    "title": "La Somme déborde à Abbeville",
    "body": "L’eau monte à Abbeville.\nConsignes : ne roulez pas sur les routes inondées.",
}
BOTH = {"en": ENGLISH, "falc": EASY}


async def test_a_version_half_written_is_refused_with_its_field_and_nothing_is_written(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    with pytest.raises(InvalidInput) as refused:
        await bulletin_support.created(
            db, clock.now(), crisis_id=crisis_id, translations={"en": {"title": "Fl"}}
        )
    fields = {p["field"] for p in refused.value.details}  # type: ignore[union-attr]
    assert fields == {"title_en", "body_en"}  # too short a title, and no text
    async with db.read() as session:
        assert await bulletins.listing(session, crisis_id=crisis_id) == []
    empty = await bulletin_support.created(
        db, clock.now(), crisis_id=crisis_id, translations={"falc": {"title": " ", "body": ""}}
    )
    assert empty.translations == {}  # a version left empty is no version


async def test_the_versions_are_in_the_content_hash_and_an_edit_after_approval_clears_it(
    db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    french_only = await bulletin_support.created(db, clock.now(), crisis_id=crisis_id)
    bulletin_id = await bulletin_support.approved(
        db, clock.now(), crisis_id=crisis_id, translations=BOTH
    )
    async with db.read() as session:
        before = await bulletins.get(session, bulletin_id=bulletin_id)
    assert before.status == BulletinStatus.APPROVED
    assert before.content_hash != french_only.content_hash
    changed = {"en": {**ENGLISH, "body": ENGLISH["body"] + " Stay at home."}, "falc": EASY}
    async with db.transaction() as session:
        after = await bulletins.edit(
            session,
            actor=COMMUNICATOR,
            bulletin_id=bulletin_id,
            draft=draft(translations=changed),
            policy=POLICY,
            now=clock.now(),
        )
    assert after.content_hash != before.content_hash
    assert after.status == BulletinStatus.SUBMITTED and after.approved_by is None
    assert after.translations["en"]["body"].endswith("Stay at home.")


async def test_the_api_takes_and_gives_each_version_as_optional_fields(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    com = await make_user(db, clock, "com", "communicator")
    body = {
        "title": "Crue de la Somme à Abbeville",
        "body": "La Somme déborde.",
        "audiences": ["public"],
        "channels": ["public_page"],
        "title_en": ENGLISH["title"],
        "body_en": ENGLISH["body"],
    }
    made = await client.post(
        f"/api/v1/crises/{crisis_id}/bulletins", json=body, headers=com.headers
    )
    assert made.status_code == 201, made.text
    shown = made.json()
    assert (shown["title_en"], shown["body_en"]) == (ENGLISH["title"], ENGLISH["body"])
    assert shown["title_falc"] is None and shown["body_falc"] is None
    half = await client.patch(
        f"/api/v1/bulletins/{shown['id']}", json={**body, "title_falc": "Crue"}, headers=com.headers
    )
    assert half.status_code == 422
    assert "FALC" in half.text and "body_falc" in half.text
    dropped = await client.patch(
        f"/api/v1/bulletins/{shown['id']}",
        json={k: v for k, v in body.items() if not k.endswith("_en")},
        headers=com.headers,
    )
    assert dropped.status_code == 200 and dropped.json()["title_en"] is None
    assert dropped.json()["content_hash"] != shown["content_hash"]


def _infos(body: bytes) -> list[tuple[str, str, str]]:
    root = valid_cap(body)
    return [
        (text(i, "cap:language"), text(i, "cap:headline"), text(i, "cap:web"))
        for i in root.findall(f"{CAP}info")
    ]


async def test_each_version_is_its_own_cap_info_french_first_then_english_then_easy_read(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    bulletin_id = await published(
        db, clock.now(), crisis_id=crisis_id, audiences=["public"], translations=BOTH
    )
    name = await public_id(db, bulletin_id)
    response = await client.get(f"/public/cap/{name}.xml")
    page = f"https://tocsin.test/public/bulletins/{name}"
    assert _infos(response.content) == [
        ("fr-FR", "Crue de la Somme à Abbeville", page),
        ("en-GB", ENGLISH["title"], f"{page}?lang=en"),
        ("fr-FR", f"Facile à lire : {EASY['title']}", f"{page}?lang=falc"),
    ]
    root = valid_cap(response.content)
    english, easy = root.findall(f"{CAP}info")[1:]
    assert text(english, "cap:instruction") == "do not drive on flooded roads."
    assert text(easy, "cap:parameter/cap:valueName") == "TOCSIN_VERSION"
    assert text(easy, "cap:parameter/cap:value") == "FALC"
    assert english.find(f"{CAP}area") is not None and easy.find(f"{CAP}area") is not None
    assert english.find(f"{CAP}parameter") is None


async def test_an_exercise_bulletins_versions_are_exercise_infos_on_the_exercise_pages_only(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now(), mode=CrisisMode.EXERCISE)
    bulletin_id = await published(
        db, clock.now(), crisis_id=crisis_id, audiences=["public"], translations=BOTH
    )
    name = await public_id(db, bulletin_id)
    for lang in ("en", "falc"):
        assert (await client.get(f"/public/bulletins/{name}?lang={lang}")).status_code == 404
    cap = await client.get(f"/public/cap/{name}.xml?mode=exercise&lang=en")
    root = valid_cap(cap.content)
    assert text(root, "cap:status") == "Exercise"
    infos = _infos(cap.content)
    assert len(infos) == 3
    assert all(h.startswith("EXERCICE EXERCICE EXERCICE") for _, h, _ in infos)
    assert infos[1][2].endswith("?mode=exercise&lang=en")
    page = await client.get(f"/public/bulletins/{name}?mode=exercise&lang=en")
    assert page.status_code == 200 and "EXERCICE" in page.text
    assert f'href="/public/bulletins/{name}?mode=exercise&amp;lang=falc"' in page.text


def _version(html: str) -> tuple[str, str]:
    """(the `lang` attribute of the bulletin's text, its heading)."""
    found = re.search(r'id="public-version" lang="(\w+)">\s*<h1>(.*?)</h1>', html, re.S)
    assert found is not None
    return found.group(1), re.sub(r"<[^>]+>", "", found.group(2)).strip()


async def test_the_public_page_offers_the_languages_the_bulletin_carries_and_shows_each(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    both = await public_id(
        db,
        await published(
            db, clock.now(), crisis_id=crisis_id, audiences=["public"], translations=BOTH
        ),
    )
    english_only = await public_id(
        db,
        await published(
            db,
            clock.now(),
            crisis_id=crisis_id,
            audiences=["public"],
            translations={"en": ENGLISH},
        ),
    )
    url = f"/public/bulletins/{both}"
    for _ in range(2):  # the second time from the cache: its key holds the language
        assert _version((await client.get(url)).text) == ("fr", "Crue de la Somme à Abbeville")
        assert _version((await client.get(f"{url}?lang=en")).text) == ("en", ENGLISH["title"])
        falc = (await client.get(f"{url}?lang=falc")).text
        assert _version(falc) == ("fr", f"Facile à lire {EASY['title']}")
    switch = (await client.get(f"{url}?lang=en")).text
    links = re.findall(r'<a href="(/public/bulletins/[^"]+)" lang="(\w+)" hreflang="\w+"', switch)
    assert links == [(url, "fr"), (f"{url}?lang=en", "en"), (f"{url}?lang=falc", "fr")]
    assert f'href="{url}?lang=en" lang="en" hreflang="en" aria-current="page"' in switch
    only = (await client.get(f"/public/bulletins/{english_only}")).text
    assert "?lang=en" in only and "?lang=falc" not in only  # only what it carries
    missing = await client.get(f"/public/bulletins/{english_only}?lang=falc")
    assert missing.status_code == 200 and 'id="public-no-version"' in missing.text
    assert _version(missing.text) == ("fr", "Crue de la Somme à Abbeville")
    unknown = await client.get(f"{url}?lang=de")
    assert unknown.status_code == 400 and "Langue non disponible" in unknown.text


async def test_a_bulletin_in_french_alone_has_no_language_switch(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    name = await public_id(
        db, await published(db, clock.now(), crisis_id=crisis_id, audiences=["public"])
    )
    page = (await client.get(f"/public/bulletins/{name}")).text
    assert 'id="public-languages"' not in page
    cap = valid_cap((await client.get(f"/public/cap/{name}.xml")).content)
    assert len(cap.findall(f"{CAP}info")) == 1


async def test_the_list_in_english_names_each_bulletin_by_its_english_title_when_it_has_one(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    await published(db, clock.now(), crisis_id=crisis_id, audiences=["public"], translations=BOTH)
    listed = (await client.get("/public/bulletins?lang=en")).text
    assert f'lang="en">{ENGLISH["title"]}</a>' in listed
    assert ENGLISH["title"] not in (await client.get("/public/bulletins")).text
