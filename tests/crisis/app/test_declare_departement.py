from __future__ import annotations

import httpx

from contacts import geography
from crisis.app.db import Database
from tests.crisis.app.web_session import log_in
from tests.support import FrozenClock, make_user


async def test_the_declaration_form_offers_the_whole_departement(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, user.login, user.password)
    page = await client.get("/evenements/nouveau")
    assert '<option value="departement" >Tout le département</option>' in page.text


async def test_the_whole_departement_declares_every_commune_of_the_geography(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, user.login, user.password)
    answer = await client.post(
        "/evenements/nouveau",
        data={
            "title": "Crue de la Somme et de ses affluents",
            "kind": "crue",
            "mode": "real",
            "arrondissement": "departement",
            "communes": "Abbeville",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 303
    crisis = (await client.get("/api/v1/crises", headers={"X-CSRF-Token": csrf})).json()["items"][0]
    async with db.read() as session:
        arrondissements = await geography.arrondissements(session)
        every = {
            code
            for a in arrondissements
            for code in await geography.communes_of_arrondissement(session, code=a.code)
        }
    assert len(every) > 700
    assert sorted(crisis["communes"]) == sorted(every)  # each once, Abbeville not twice
