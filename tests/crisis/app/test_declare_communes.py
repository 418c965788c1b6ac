"""Issue 18 item 3: the declaration form reads communes as the composer does — names, INSEE
codes, and « Nom (code) » as the shared autocomplete writes them."""

from __future__ import annotations

import httpx

from crisis.app.db import Database
from tests.crisis.app.web_session import log_in
from tests.support import FrozenClock, make_user


async def test_the_form_offers_the_composers_commune_autocomplete(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, user.login, user.password)
    page = (await client.get("/evenements/nouveau")).text
    assert 'id="communes" name="communes" rows="3" autocomplete="off" data-commune-search' in page
    assert 'id="communes-suggestions"' in page and 'id="communes-status"' in page
    assert '<script src="/static/tocsin/communes.js" defer></script>' in page


async def test_communes_chosen_by_autocomplete_named_or_coded_are_declared_by_their_codes(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, user.login, user.password)
    answer = await client.post(
        "/evenements/nouveau",
        data={
            "title": "Crue de l'Avre à Montdidier",
            "kind": "crue",
            "mode": "real",
            "communes": (
                "Montdidier (80561), Amiens\n80001 80620, Fontaine-sous-Montdidier (80326), "
            ),
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 303, answer.text
    crisis = (await client.get("/api/v1/crises", headers={"X-CSRF-Token": csrf})).json()["items"][0]
    assert crisis["communes"] == ["80561", "80021", "80001", "80620", "80326"]


async def test_a_chosen_commune_whose_code_is_unknown_is_named_and_nothing_declared(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, user.login, user.password)
    answer = await client.post(
        "/evenements/nouveau",
        data={
            "title": "Crue",
            "kind": "crue",
            "mode": "real",
            "communes": "Montdidier (80561), Atlantide (99999)",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 422 and "Communes non reconnues : 99999" in answer.text
