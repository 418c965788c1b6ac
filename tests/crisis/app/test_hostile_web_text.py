"""A NUL or another control character typed in a web form or a query string is refused with
a reason, before anything is stored; never a server error (PostgreSQL cannot store a NUL)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute

from crisis import journal
from crisis.app.db import Database
from crisis.app.factory import ROUTERS
from tests.crisis.app.web_session import declare_from_form, log_in
from tests.crisis.bulletin_support import declare, published
from tests.support import FrozenClock, TestUser, make_user

ROLES = ("prefect", "validator", "communicator", "trainer", "operator", "admin")
TEXT_FIELDS = (
    "title",
    "body",
    "kind",
    "communes",
    "note",
    "reason",
    "decided_by",
    "login",
    "password",
    "address",
    "role",
    "user",
)
HOSTILE = ("\x00", "\x01", "\x1b")


def _routes(method: str) -> list[str]:
    return sorted(
        {
            route.path
            for router in ROUTERS
            for route in router.routes
            if isinstance(route, APIRoute) and method in route.methods
        }
    )


WEB_FORMS = [p for p in _routes("POST") if not p.startswith("/api/")]
GETS = [p for p in _routes("GET") if p != "/flux"]  # the event stream never ends


def _filled(path: str, crisis_id: int, bulletin_id: int) -> str:
    path = path.replace("{crisis_id}", str(crisis_id)).replace("{bulletin_id}", str(bulletin_id))
    path = re.sub(r"\{\w*(id|position)\}", "1", path)
    return re.sub(r"\{[\w:]+\}", "jeton", path)


async def _everything(
    db: Database, clock: FrozenClock, client: httpx.AsyncClient
) -> tuple[TestUser, str, int, int]:
    user = await make_user(db, clock, "tous", *ROLES)
    csrf = await log_in(client, user.login, user.password)
    crisis_id = await declare(db, clock.now())
    bulletin_id = await published(db, clock.now(), crisis_id=crisis_id)
    return user, csrf, crisis_id, bulletin_id


async def _journal_length(db: Database) -> int:
    async with db.read() as session:
        return len(await journal.recent(session, limit=10_000))


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
async def test_a_nul_or_control_character_in_any_web_form_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, encoding: str
) -> None:
    _, csrf, crisis_id, bulletin_id = await _everything(db, clock, client)
    assert len(WEB_FORMS) > 15
    before = await _journal_length(db)
    wrong = []
    for path in WEB_FORMS:
        for character in HOSTILE:
            fields = {name: f"Crue{character} de la Somme" for name in TEXT_FIELDS}
            fields["csrf_token"] = csrf
            url = _filled(path, crisis_id, bulletin_id)
            if encoding == "multipart":
                files = {"file": ("contacts.csv", b"nom\nDURAND\n", "text/csv")}
                answer = await client.post(url, data=fields, files=files)
            else:
                answer = await client.post(url, data=fields)
            if (
                answer.status_code != 422
                or "n&#39;est pas accepté dans un texte" not in answer.text
            ):
                wrong.append(f"POST {url} {character!r}: {answer.status_code}")
    assert wrong == []
    assert await _journal_length(db) == before


async def test_a_nul_or_control_character_in_a_query_string_is_refused_on_every_page_and_api(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user, _, crisis_id, bulletin_id = await _everything(db, clock, client)
    assert len(GETS) > 30
    wrong = []
    for path in GETS:
        url = _filled(path, crisis_id, bulletin_id)
        for query in ("q=a%00b", "crisis_id=1%01", "limit%00=1", "audience=%1b"):
            answer = await client.get(f"{url}?{query}", headers=user.headers)
            if answer.status_code != 422:
                wrong.append(f"GET {url}?{query}: {answer.status_code}")
            elif url.startswith("/public/bulletins"):  # public pages answer a page
                assert "Erreur 422" in answer.text, url
            elif url.startswith(("/api/", "/public/")):
                assert answer.json()["error"]["code"] == "control_character"
    assert wrong == []


@pytest.mark.parametrize(
    "path", ["/static/tocsin/a%00b.css", "/static/dsfr/icons/a%00b.svg", "/fiches-reflexes/a%00b"]
)
async def test_a_nul_character_in_a_path_is_refused_not_a_server_error(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, path: str
) -> None:
    user = await make_user(db, clock, "tous", *ROLES)
    answer = await client.get(path, headers=user.headers)
    assert answer.status_code == 422
    assert "caractère nul (U+0000)" in answer.text


async def test_a_nul_character_typed_as_a_crisis_title_is_refused_and_nothing_is_declared(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, user.login, user.password)
    answer = await declare_from_form(client, csrf, "Crue\x00 de la Somme")
    assert answer.status_code == 422
    assert "Texte refusé dans le champ « title » : le caractère nul (U+0000)" in answer.text
    listed = await client.get("/api/v1/crises", headers=user.headers)
    assert listed.json()["items"] == []


@pytest.mark.parametrize("title", ["\u200b\u200b\u200b", "\ufeff \u200d \u2060 "])
async def test_a_title_of_invisible_characters_is_refused_in_the_web_forms_as_in_the_api(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, title: str
) -> None:
    user = await make_user(db, clock, "prefet", "prefect", "communicator")
    csrf = await log_in(client, user.login, user.password)
    crisis = await declare_from_form(client, csrf, title)
    assert "Le titre doit compter au moins 3 caractères." in crisis.text
    crisis_id = await declare(db, clock.now())
    bulletin = await client.post(
        f"/evenements/{crisis_id}/communiques/nouveau",
        data={"title": title, "body": "La Somme déborde.", "audiences": "officials",
              "channels": "email", "csrf_token": csrf},
    )  # fmt: skip
    assert "Le titre doit compter au moins 3 caractères." in bulletin.text
    listed = await client.get(f"/api/v1/crises/{crisis_id}/bulletins", headers=user.headers)
    assert listed.json()["items"] == []
    crises = await client.get("/api/v1/crises", headers=user.headers)
    assert [c["id"] for c in crises.json()["items"]] == [crisis_id]
