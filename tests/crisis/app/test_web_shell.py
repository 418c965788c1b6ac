from __future__ import annotations

import httpx

from crisis import journal
from crisis.app.db import Database
from tests.crisis.app.web_session import csrf_of, log_in
from tests.support import FrozenClock, make_user


async def test_pages_redirect_to_the_login_page_when_not_logged_in(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/main-courante", "/evenements/nouveau"):
        answer = await client.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/connexion"


async def test_a_user_logs_in_and_sees_the_dashboard_in_french(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, user.login, user.password)
    page = await client.get("/")
    assert page.status_code == 200
    assert "Aucun événement en cours" in page.text and 'lang="fr"' in page.text
    assert "Déclarer un événement" in page.text


async def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    await make_user(db, clock, "prefet", "prefect")
    token = csrf_of((await client.get("/connexion")).text)
    async with db.read() as session:
        before = await journal.length(session)
    for login in ("prefet", "inconnu"):
        answer = await client.post(
            "/connexion", data={"login": login, "password": "faux", "csrf_token": token}
        )
        assert answer.status_code == 401
        assert "Identifiant ou mot de passe incorrect." in answer.text
    async with db.read() as session:  # counted, not chained (issue 15, item 9's rule)
        assert await journal.length(session) == before
    metrics = (await client.get("/metrics")).text
    assert 'tocsin_auth_refusals_total{reason="password"} 2.0' in metrics


async def test_a_form_without_its_csrf_token_is_refused_and_journaled(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    await client.get("/connexion")
    answer = await client.post("/connexion", data={"login": user.login, "password": user.password})
    assert answer.status_code == 403
    async with db.read() as session:
        assert (await journal.recent(session, limit=1))[0].action == "auth.csrf_refused"


async def test_the_api_called_with_the_session_cookie_requires_the_csrf_header(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, user.login, user.password)
    body = {"title": "Tempête", "kind": "tempete", "mode": "real", "communes": ["80001"]}
    assert (await client.post("/api/v1/crises", json=body)).status_code == 403
    assert (
        await client.post("/api/v1/crises", json=body, headers={"X-CSRF-Token": csrf})
    ).status_code == 201


async def test_a_prefect_declares_an_exercise_from_the_form_and_it_is_marked_everywhere(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, user.login, user.password)
    answer = await client.post(
        "/evenements/nouveau",
        data={
            "title": "Exercice crue",
            "kind": "crue",
            "mode": "exercise",
            "communes": "Abbeville, amiens\n80620",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 303
    crisis_page = await client.get(answer.headers["location"])
    assert "EXERCICE — EXERCICE — EXERCICE" in crisis_page.text
    assert "Abbeville, Amiens, Péronne" in crisis_page.text
    assert "Événement déclaré" in crisis_page.text
    assert "EXERCICE" in (await client.get("/")).text


async def test_the_form_names_communes_it_does_not_know_and_declares_nothing(
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
            "communes": "Atlantide",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 422 and "Communes non reconnues : Atlantide" in answer.text
    assert "Aucun événement en cours" in (await client.get("/")).text


async def test_a_whole_arrondissement_can_be_selected(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, user.login, user.password)
    answer = await client.post(
        "/evenements/nouveau",
        data={
            "title": "Tempête sur le littoral",
            "kind": "tempete",
            "mode": "real",
            "arrondissement": "801",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 303
    crisis = (await client.get("/api/v1/crises", headers={"X-CSRF-Token": csrf})).json()["items"][0]
    assert "80001" in crisis["communes"] and len(crisis["communes"]) > 100


async def test_the_journal_page_shows_the_chain_is_intact(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, user.login, user.password)
    page = await client.get("/main-courante")
    assert "Chaîne d'empreintes vérifiée" in page.text and "Connexion" in page.text


async def test_logging_out_ends_the_session(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, user.login, user.password)
    assert (await client.post("/deconnexion", data={"csrf_token": csrf})).status_code == 303
    assert (await client.get("/")).status_code == 303
