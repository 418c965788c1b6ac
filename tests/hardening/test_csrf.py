"""CSRF (issue 22, item 2): every state-changing route refuses a logged-in browser's request
that carries no CSRF token or a wrong one — 403, journaled `auth.csrf_refused`, nothing changed.

Pages check the form's hidden `csrf_token` (`crisis.app.auth.require_csrf_form`, before anything
else); the API, called with the session cookie, checks the `X-CSRF-Token` header
(`crisis.app.auth.current_actor`). Exempt by design: the API called with a bearer token (no
cookie, so nothing a foreign site can make a browser send), the providers' webhooks (their
shared secret), and the recipient's signed confirmation link `POST /confirmer/{token}` (no
session: the unguessable link is the only credential, and a forged request would need it).
"""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from crisis.actors import Role
from crisis.app.db import Database
from tests.crisis.app.web_session import log_in
from tests.hardening.matrix import MATRIX, WEBHOOK
from tests.hardening.world import Hardening, changed, request, state
from tests.support import FrozenClock, make_user

EXEMPT = {"POST /confirmer/{token}"}
UNSAFE = {
    key: row
    for key, row in MATRIX.items()
    if not key.startswith("GET ") and row.may is not WEBHOOK and key not in EXEMPT
}


async def _refusals(db: Database) -> int:
    query = sa.text("SELECT count(*) FROM journal_entry WHERE action = 'auth.csrf_refused'")
    async with db.read() as session:
        return int((await session.execute(query)).scalar_one())


async def test_every_state_changing_route_refuses_a_session_without_the_right_csrf_token(
    world: Hardening, transport: httpx.ASGITransport, db: Database, clock: FrozenClock
) -> None:
    everyone = await make_user(db, clock, "tous", *Role)
    wrong: list[str] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin.test") as browser:
        csrf = await log_in(browser, everyone.login, everyone.password)
        assert len(UNSAFE) > 100
        before, journaled = await state(db), await _refusals(db)
        for key, row in UNSAFE.items():
            method, _, template = key.partition(" ")
            for given in (None, csrf[::-1]):
                answer = await request(
                    browser, method, world.url(template), body=row.body, csrf=given
                )
                if answer.status_code != 403:
                    wrong.append(f"{key} csrf={given is not None}: {answer.status_code}")
        assert wrong == [], "\n".join(wrong)
        assert changed(before, await state(db)) == []
        assert await _refusals(db) - journaled >= 2 * len(UNSAFE)
        still = await browser.get("/mon-compte")  # the refused logout ended nothing
        assert still.status_code == 200


async def test_the_api_with_a_bearer_token_needs_no_csrf_but_a_page_form_still_does(
    world: Hardening,
) -> None:
    client = world.browsers[Role.TRAINER].client
    prefect = world.users[Role.PREFECT].headers
    body = {"title": "Feu de forêt", "kind": "feu", "mode": "real", "communes": ["80001"]}
    declared = await client.post("/api/v1/crises", json=body, headers=prefect)
    assert declared.status_code == 201, declared.text
    form = {"title": "Feu", "kind": "feu", "mode": "real", "communes": "80001"}
    page = await client.post("/evenements/nouveau", data=form, headers=prefect)
    assert page.status_code == 403
