"""The Atom feed of the public bulletins (issue 21 item 2): valid against RFC 4287's grammar,
newest first, bounded, each entry linking its page and its CAP alert, an update or a
cancellation as its own entry naming what it replaces; HTTP validators and a per-commune
feed."""

from __future__ import annotations

import httpx

from crisis.app.db import Database
from crisis.vocabulary import CrisisMode
from tests.crisis.bulletin_support import declare, published
from tests.crisis.public.support import ATOM, story, valid_feed
from tests.support import FrozenClock


def _entries(root: object) -> list[dict[str, object]]:
    found = []
    for entry in root.findall(f"{ATOM}entry"):  # type: ignore[attr-defined]
        links = [
            (lk.get("rel"), lk.get("type"), lk.get("href"), lk.get("title"))
            for lk in entry.findall(f"{ATOM}link")
        ]
        found.append(
            {
                "title": entry.findtext(f"{ATOM}title"),
                "links": links,
                "updated": entry.findtext(f"{ATOM}updated"),
            }
        )
    return found


async def test_the_feed_lists_the_public_bulletins_newest_first_with_page_and_cap_links(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    told = await story(db, clock)
    response = await client.get("/public/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    entries = _entries(valid_feed(response.content))
    assert [e["title"] for e in entries] == [
        "Annulation : Crue : fin de l'alerte",
        "Mise à jour : Crue : point de 15 h",
        "Crue : premières consignes",
    ]  # the mayors' note is not there
    assert entries[0]["updated"] == "2026-11-28T16:00:00+01:00"
    page = f"https://tocsin.test/public/bulletins/{told.alert}"
    cap = f"https://tocsin.test/public/cap/{told.alert}.xml"
    assert ("alternate", "text/html", page, None) in entries[2]["links"]
    assert ("related", "application/cap+xml", cap, "Alerte CAP") in entries[2]["links"]
    update_links = entries[1]["links"]
    assert ("related", "text/html", page, "Met à jour : Crue : premières consignes") in (
        update_links
    )
    assert told.mayors not in response.text
    cancel_page = f"https://tocsin.test/public/bulletins/{told.update}"
    assert ("related", "text/html", cancel_page, "Annule : Crue : point de 15 h") in (
        entries[0]["links"]
    )


async def test_the_feed_answers_304_to_a_reader_that_has_it_and_says_how_to_cache_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    await story(db, clock)
    first = await client.get("/public/feed.atom")
    assert first.headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert first.headers["last-modified"] == "Sat, 28 Nov 2026 15:00:00 GMT"
    assert "set-cookie" not in first.headers
    again = await client.get("/public/feed.atom", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    since = {"If-Modified-Since": first.headers["last-modified"]}
    assert (await client.get("/public/feed.atom", headers=since)).status_code == 304
    earlier = {"If-Modified-Since": "Sat, 28 Nov 2026 14:59:59 GMT"}
    assert (await client.get("/public/feed.atom", headers=earlier)).status_code == 200
    stale = await client.get("/public/feed.atom", headers={"If-None-Match": '"autre"'})
    assert stale.status_code == 200 and stale.content == first.content


async def test_the_feed_keeps_the_last_fifty_bulletins(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    for n in range(52):
        clock.advance(minutes=1)
        await published(
            db, clock.now(), crisis_id=crisis_id, title=f"Point n° {n}", audiences=["public"]
        )
    entries = _entries(valid_feed((await client.get("/public/feed.atom")).content))
    assert len(entries) == 50
    assert entries[0]["title"] == "Point n° 51" and entries[-1]["title"] == "Point n° 2"


async def test_a_commune_feed_holds_only_the_bulletins_about_that_commune(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    await story(db, clock)  # the first bulletin names Abbeville and Amiens, the others Abbeville
    amiens = valid_feed((await client.get("/public/feed.atom?commune=80021")).content)
    assert [e["title"] for e in _entries(amiens)] == ["Crue : premières consignes"]
    assert "Amiens" in (amiens.findtext(f"{ATOM}title") or "")
    assert (
        len(_entries(valid_feed((await client.get("/public/feed.atom?commune=80001")).content)))
        == 3
    )
    nowhere = valid_feed((await client.get("/public/feed.atom?commune=80999")).content)
    assert _entries(nowhere) == []


async def test_exercise_bulletins_are_only_in_the_exercise_feed(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    await story(db, clock, mode=CrisisMode.EXERCISE)
    real = valid_feed((await client.get("/public/feed.atom")).content)
    assert _entries(real) == []
    drill = valid_feed((await client.get("/public/feed.atom?mode=exercise")).content)
    titles = [str(e["title"]) for e in _entries(drill)]
    assert len(titles) == 3 and all(t.startswith("EXERCICE — ") for t in titles)
    assert (drill.findtext(f"{ATOM}title") or "").startswith("EXERCICE")
