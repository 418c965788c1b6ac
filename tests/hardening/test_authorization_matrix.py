"""The authorization matrix (issue 22, item 2): every route × every role, anonymous, and a dead
session or token, against the table in `tests/hardening/matrix.py`.

- a role a row allows is answered (never 401/403); any other role is refused 403;
- a refused attempt changes nothing (every table but the journal and the sessions compared);
- without an account, or with a revoked or expired session or a revoked token, only the public
  routes, the signed links and the webhooks (with their own secret) answer: the API says 401,
  a page sends to the login page, a form is refused.

What a role may *see* on the routes it may read is `tests/crisis/app/test_personal_data.py`
(recipients) and `test_attacker_with_an_account.py` (callback numbers, other crises' ids).
"""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from fastapi.routing import APIRoute

from crisis.actors import Role
from crisis.app.db import Database
from crisis.app.factory import ROUTERS
from tests.hardening.matrix import ANY, LINK, MATRIX, PUBLIC, WEBHOOK, Row, route_of
from tests.hardening.world import Hardening, changed, request, state
from tests.support import FrozenClock

STREAMS = {"GET /flux"}  # never ends: only a dead session is tried there


def test_every_route_of_the_app_is_in_the_matrix() -> None:
    app = {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
        if method != "HEAD"
    }
    rows = {route_of(key) for key in MATRIX}
    assert sorted(app - rows) == [], "give each new route its row in tests/hardening/matrix.py"
    assert sorted(rows - app) == [], "a row for a route that no longer exists"


def _reads() -> dict[str, Row]:
    return {
        key: row
        for key, row in MATRIX.items()
        if key.startswith("GET ") and key not in STREAMS and row.may not in (PUBLIC, LINK)
    }


async def test_each_role_reads_what_its_row_allows_and_is_refused_the_rest(
    world: Hardening,
) -> None:
    wrong: list[str] = []
    api = world.browsers[Role.ADMIN].client
    for key, row in _reads().items():
        url = world.url(key.partition(" ")[2])
        for role, user in world.users.items():
            answer = await api.get(url, headers=user.headers)
            allowed = role in row.roles
            ok = answer.status_code not in (401, 403) if allowed else answer.status_code == 403
            if not ok or answer.status_code >= 500:
                wrong.append(f"{key} {role}: {answer.status_code}")
    assert wrong == [], "\n".join(wrong)


async def test_a_refused_role_is_answered_403_and_changes_nothing_on_any_write(
    world: Hardening, db: Database
) -> None:
    """API writes as the refused role's bearer token; page forms from its logged-in browser."""
    wrong: list[str] = []
    before = await state(db)
    for key, row in MATRIX.items():
        method, _, template = key.partition(" ")
        if method == "GET" or row.may in (ANY, PUBLIC, LINK, WEBHOOK):
            continue
        url = world.url(template)
        for role in set(Role) - row.roles:
            browser = world.browsers[role]
            if url.startswith("/api/"):
                answer = await request(
                    browser.client, method, url, body=row.body, headers=world.users[role].headers
                )
                if answer.status_code != 403:
                    wrong.append(f"{key} {role}: {answer.status_code} {answer.text[:120]}")
            else:
                answer = await request(
                    browser.client, method, url, body=row.body, csrf=browser.csrf
                )
                if answer.status_code >= 500 or (
                    answer.is_success
                    and "alert--error" not in answer.text
                    and answer.status_code != 200
                ):
                    wrong.append(f"{key} {role}: {answer.status_code}")
    assert wrong == [], "\n".join(wrong)
    assert changed(before, await state(db)) == []  # the tables a refused attempt changed


async def _dead_credentials(
    world: Hardening, transport: httpx.ASGITransport, db: Database, clock: FrozenClock
) -> dict[str, tuple[httpx.AsyncClient, str | None, dict[str, str]]]:
    """Anonymous; a revoked session; a revoked API token; (an expired session is tried after)."""
    anonymous = httpx.AsyncClient(transport=transport, base_url="http://tocsin.test")
    revoked = world.browsers[Role.PREFECT]
    await revoked.client.post("/deconnexion", data={"csrf_token": revoked.csrf})
    async with db.transaction() as session:
        await session.execute(
            sa.text("UPDATE api_token SET revoked_at = :now WHERE user_id = :u"),
            {"now": clock.now(), "u": world.users[Role.ADMIN].id},
        )
    return {
        "anonyme": (anonymous, None, {}),
        "session révoquée": (revoked.client, revoked.csrf, {}),
        "jeton révoqué": (anonymous, None, world.users[Role.ADMIN].headers),
    }


def _refused(key: str, answer: httpx.Response) -> bool:
    """401 from the API; a page sends to the login page; a form is refused (CSRF or login)."""
    method, _, path = key.partition(" ")
    if path.startswith("/api/"):
        return answer.status_code == 401
    if answer.status_code == 303:
        return answer.headers["location"].startswith("/connexion")
    return method != "GET" and answer.status_code in (401, 403)


async def test_no_account_and_dead_credentials_reach_only_public_routes(
    world: Hardening, transport: httpx.ASGITransport, db: Database, clock: FrozenClock
) -> None:
    callers = await _dead_credentials(world, transport, db, clock)
    wrong: list[str] = []
    before = await state(db)

    async def sweep(
        name: str, client: httpx.AsyncClient, csrf: str | None, headers: dict[str, str]
    ) -> None:
        for key, row in MATRIX.items():
            if row.may in (PUBLIC, LINK, WEBHOOK):
                continue
            method, _, template = key.partition(" ")
            answer = await request(
                client, method, world.url(template), body=row.body, headers=headers, csrf=csrf
            )
            if not _refused(key, answer):
                wrong.append(f"{name} {key}: {answer.status_code}")

    for name, (client, csrf, headers) in callers.items():
        await sweep(name, client, csrf, headers)
    expired = world.browsers[Role.VALIDATOR]
    clock.advance(minutes=121)  # TOCSIN_SESSION_IDLE_MINUTES: 120
    await sweep("session expirée", expired.client, expired.csrf, {})
    assert wrong == [], "\n".join(wrong)
    assert changed(before, await state(db)) == []
    await callers["anonyme"][0].aclose()


async def test_public_routes_and_links_answer_without_an_account(
    world: Hardening, transport: httpx.ASGITransport
) -> None:
    """Public pages answer 200 (404 for an officials-only bulletin); a bad link is 404; a
    webhook without its provider's secret is 403."""
    wrong: list[str] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as anonymous:
        for key, row in MATRIX.items():
            method, _, template = key.partition(" ")
            if row.may not in (PUBLIC, LINK, WEBHOOK) or (method != "GET" and row.may is PUBLIC):
                continue
            answer = await anonymous.request(method, world.url(template))
            expected = {PUBLIC: {200, 404}, LINK: {404}, WEBHOOK: {403}}[row.may]
            if method == "POST" and row.may is LINK:
                expected = {403, 404}  # the form's CSRF, or the unknown link
            if answer.status_code not in expected:
                wrong.append(f"{key}: {answer.status_code}")
    assert wrong == [], "\n".join(wrong)
