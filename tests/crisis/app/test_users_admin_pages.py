"""Issue 18 item 12: an administrator manages the accounts in the web; nobody else opens them."""

from __future__ import annotations

import json
import re

import httpx
from sqlmodel import select

from crisis.app.db import Database
from crisis.journal import JournalEntry
from tests.crisis.app.web_session import log_in
from tests.support import FrozenClock, make_user

_ONE_TIME = re.compile(r'id="mot-de-passe-unique">([^<]+)<')


async def _user_id(client: httpx.AsyncClient, login: str) -> int:
    found = re.search(
        rf'href="/utilisateurs/(\d+)" aria-label="Gérer le compte « {login} »"',
        (await client.get("/utilisateurs")).text,
    )
    assert found
    return int(found.group(1))


async def test_an_administrator_creates_an_account_and_sees_its_one_time_password_once(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin", "admin")
    csrf = await log_in(client, admin.login, admin.password)
    created = await client.post(
        "/utilisateurs",
        data={"csrf_token": csrf, "login": "c.martin", "display_name": "Claire Martin",
              "email": "claire.martin@somme.gouv.fr", "roles": ["communicator", "validator"]},
    )  # fmt: skip
    assert created.status_code == 200, created.text
    one_time = _ONE_TIME.search(created.text)
    assert one_time
    listing = (await client.get("/utilisateurs")).text
    assert "claire.martin@somme.gouv.fr" in listing and "Chargé de communication" in listing
    assert one_time.group(1) not in listing and "mot-de-passe-unique" not in listing
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as new:
        page = await new.get("/connexion")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        data = {"login": "c.martin", "password": one_time.group(1), "csrf_token": token.group(1)}
        assert (await new.post("/connexion", data=data)).status_code == 303
        assert (await new.get("/")).headers["location"] == "/mon-compte/mot-de-passe"


async def test_a_taken_login_is_refused_in_french_and_the_form_keeps_its_values(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin", "admin")
    csrf = await log_in(client, admin.login, admin.password)
    data = {"csrf_token": csrf, "login": "admin", "display_name": "Double", "roles": ["prefect"]}
    refused = await client.post("/utilisateurs", data=data)
    assert refused.status_code == 409 and "L&#39;identifiant « admin » existe déjà." in refused.text
    assert 'value="Double"' in refused.text and not _ONE_TIME.search(refused.text)


async def test_an_administrator_changes_roles_resets_revokes_a_token_and_disables_an_account(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin", "admin")
    agent = await make_user(db, clock, "agent", "communicator")
    csrf = await log_in(client, admin.login, admin.password)
    user_id = await _user_id(client, "agent")
    roles = await client.post(
        f"/utilisateurs/{user_id}/roles", data={"csrf_token": csrf, "roles": ["operator"]}
    )
    assert roles.status_code == 303
    page = (await client.get(f"/utilisateurs/{user_id}")).text
    assert 'value="operator" checked' in page and 'value="communicator" checked' not in page
    token_id = re.search(rf"/utilisateurs/{user_id}/jetons/(\d+)/revocation", page)
    assert token_id
    revoked = await client.post(
        f"/utilisateurs/{user_id}/jetons/{token_id.group(1)}/revocation", data={"csrf_token": csrf}
    )
    assert revoked.status_code == 303
    assert (await client.get("/api/v1/crises", headers=agent.headers)).status_code == 401
    reset = await client.post(f"/utilisateurs/{user_id}/mot-de-passe", data={"csrf_token": csrf})
    assert _ONE_TIME.search(reset.text)
    disabled = await client.post(
        f"/utilisateurs/{user_id}/desactivation", data={"csrf_token": csrf}
    )
    assert disabled.status_code == 303
    assert "Désactivé" in (await client.get("/utilisateurs")).text


async def test_the_last_administrator_cannot_disable_their_own_account_from_the_web(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin", "admin")
    csrf = await log_in(client, admin.login, admin.password)
    answer = await client.post(f"/utilisateurs/{admin.id}/desactivation", data={"csrf_token": csrf})
    assert answer.status_code == 409 and "dernier administrateur actif" in answer.text
    assert (await client.get("/utilisateurs")).status_code == 200
    async with db.read() as session:
        refusals = await session.exec(select(JournalEntry).where(JournalEntry.action == "refused"))
        assert [json.loads(r.payload)["code"] for r in refusals] == ["last_admin"]


async def test_nobody_but_an_administrator_opens_the_accounts_pages(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect = await make_user(db, clock, "prefet", "prefect")
    csrf = await log_in(client, prefect.login, prefect.password)
    assert (await client.get("/utilisateurs")).status_code == 403
    assert (await client.get(f"/utilisateurs/{prefect.id}")).status_code == 403
    data = {"csrf_token": csrf, "roles": ["admin"]}
    assert (await client.post(f"/utilisateurs/{prefect.id}/roles", data=data)).status_code == 403
    assert 'href="/utilisateurs"' not in (await client.get("/")).text
