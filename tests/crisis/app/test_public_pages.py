"""Nothing private made public (issue 18 item 2): the public URLs of CONTRACT §3 serve only the
bulletins published to the public, under their unguessable public id; everything else is the
same 404."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.settings import Settings
from crisis.bulletin import workflow as bulletins
from crisis.vocabulary import CrisisMode
from tests.crisis.app.web_session import log_in
from tests.crisis.bulletin_support import BODY, declare, load_directory, published
from tests.support import FrozenClock, make_user

MAYORS_LINE = "Ligne du COD réservée aux élus : 03 53 01 00 10."
MAYORS_TITLE = "Crue : information réservée aux maires"
PUBLIC_TITLE = "Crue de la Somme : consignes à la population"


@pytest.fixture
async def client(
    settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(
        update={"public_accounts": {"x": "@prefet80"}, "base_url": "https://tocsin.test"}
    )
    app = create_app(configured, clock=clock, database=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as http:
        yield http


async def _two_bulletins(db: Database, clock: FrozenClock) -> tuple[int, int]:
    """(a bulletin to the mayors only, a bulletin to the public), both published."""
    crisis_id = await declare(db, clock.now())
    await load_directory(db, clock.now())
    mayors = await published(
        db,
        clock.now(),
        crisis_id=crisis_id,
        title=MAYORS_TITLE,
        body=f"{BODY}\n{MAYORS_LINE}",
        audiences=["officials"],
    )
    public = await published(
        db, clock.now(), crisis_id=crisis_id, title=PUBLIC_TITLE, audiences=["public"]
    )
    return mayors, public


async def _public_id(db: Database, bulletin_id: int) -> str:
    async with db.read() as session:
        return (await bulletins.get(session, bulletin_id=bulletin_id)).public_id


def _every_public_url(name: str) -> list[str]:
    return [
        f"/public/bulletins/{name}",
        f"/public/bulletins/{name}?mode=exercise",
        f"/public/cap/{name}.xml",
    ]


async def _nowhere(client: httpx.AsyncClient, name: str) -> None:
    """Every public URL naming `name` is 404 and says nothing of the mayors' bulletin."""
    for url in _every_public_url(name):
        response = await client.get(url)
        assert response.status_code == 404, url
        assert MAYORS_LINE not in response.text and MAYORS_TITLE not in response.text, url


async def test_a_bulletin_for_the_mayors_only_is_on_no_public_url_whatever_its_name(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    mayors, public = await _two_bulletins(db, clock)
    for name in [str(mayors), str(public), "0", "1", "2", "3", str(mayors + 100)]:
        await _nowhere(client, name)
    secret_name = await _public_id(db, mayors)  # even its own name, had it leaked
    await _nowhere(client, secret_name)
    for url in ("/public/bulletins", "/public/feed.atom", "/public/bulletins?mode=exercise"):
        listed = await client.get(url)
        assert MAYORS_LINE not in listed.text and MAYORS_TITLE not in listed.text, url
        assert secret_name not in listed.text, url


async def test_a_private_bulletin_and_a_missing_one_get_the_very_same_answer(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    mayors, _ = await _two_bulletins(db, clock)
    private = await client.get(f"/public/bulletins/{await _public_id(db, mayors)}")
    missing = await client.get("/public/bulletins/AAAAAAAAAAAAAAAAAAAAAA")
    assert private.status_code == missing.status_code == 404
    assert private.text == missing.text and "Aucun communiqué public" in private.text
    assert private.headers["content-type"].startswith("text/html")


async def test_a_public_bulletin_is_reached_by_its_public_id_only(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    _, public = await _two_bulletins(db, clock)
    name = await _public_id(db, public)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", name)  # 128 random bits
    page = await client.get(f"/public/bulletins/{name}")
    assert page.status_code == 200 and PUBLIC_TITLE in page.text
    assert (await client.get(f"/public/bulletins/{public}")).status_code == 404
    listed = await client.get("/public/bulletins")
    assert listed.status_code == 200 and f'href="/public/bulletins/{name}"' in listed.text


async def test_the_api_names_the_public_page_of_a_public_bulletin_and_none_of_a_private_one(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    mayors, public = await _two_bulletins(db, clock)
    reader = await make_user(db, clock, "lecteur", "communicator")
    private = (await client.get(f"/api/v1/bulletins/{mayors}", headers=reader.headers)).json()
    assert private["public_id"] is None and private["public_url"] is None
    assert private["cap_url"] is None
    assert all("/public/" not in r["text"] for r in private["renderings"].values())
    shown = (await client.get(f"/api/v1/bulletins/{public}", headers=reader.headers)).json()
    name = await _public_id(db, public)
    assert shown["public_id"] == name
    assert shown["public_url"] == f"https://tocsin.test/public/bulletins/{name}"
    assert shown["renderings"]["x"]["text"].endswith(shown["public_url"])


async def test_an_exercise_bulletin_is_public_only_in_exercise_mode(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now(), mode=CrisisMode.EXERCISE)
    drill = await published(
        db,
        clock.now(),
        crisis_id=crisis_id,
        title="Exercice : crue",
        audiences=["public"],
        channels=["x", "public_page"],
    )
    name = await _public_id(db, drill)
    assert (await client.get(f"/public/bulletins/{name}")).status_code == 404
    assert "Exercice : crue" not in (await client.get("/public/bulletins")).text
    page = await client.get(f"/public/bulletins/{name}?mode=exercise")
    assert page.status_code == 200 and "EXERCICE" in page.text
    assert "Exercice : crue" in (await client.get("/public/bulletins?mode=exercise")).text
    assert (await client.get("/public/bulletins?mode=autre")).status_code == 400


def _ticked(html: str, name: str) -> set[str]:
    """The values of the checkboxes `name` ticked in the form."""
    pattern = rf'<input type="checkbox" id="[^"]+" name="{name}" value="([^"]+)" (checked)?'
    boxes = re.findall(pattern, html)
    return {value for value, checked in boxes if checked}


async def test_the_mayors_template_opens_with_the_mayors_ticked_and_no_public_channel(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    crisis_id = await declare(db, clock.now())
    com = await make_user(db, clock, "com", "communicator")
    await log_in(client, "com", com.password)
    url = f"/evenements/{crisis_id}/communiques/nouveau"
    mayors = await client.get(url, params={"modele": "premiere-information-elus"})
    assert mayors.status_code == 200
    assert _ticked(mayors.text, "audiences") == {"officials"}
    assert _ticked(mayors.text, "channels") and not _ticked(mayors.text, "channels") & {
        "x",
        "mastodon",
        "webhook",
        "public_page",
    }
    assert "https://tocsin.test/public/" not in mayors.text  # no link to the public page
    public = await client.get(url, params={"modele": "premiere-information-public"})
    assert _ticked(public.text, "audiences") == {"public"}
    assert {"x", "public_page"} <= _ticked(public.text, "channels")
    assert "https://tocsin.test/public/bulletins" in public.text
