"""The world the authorization tests run in: the personal-data test's real crisis (cell, COD,
CIP ordered, a bulletin published to officials, an unknown reply, a launched on-call drill),
plus one object of each kind a route names — a submitted and an approved bulletin, a CIP
shift, a logged call with a callback number, a FAQ entry awaiting approval, a roster shift, an
inject — and a logged-in browser (session, CSRF token) for every role."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa

from crisis.actors import Role
from crisis.app.db import Database
from crisis.app.models import metadata
from tests.crisis.app.test_personal_data import World, _world
from tests.crisis.app.web_session import log_in
from tests.support import FrozenClock, TestUser, make_user

LOGIN_OF = {
    Role.PREFECT: "prefet",
    Role.VALIDATOR: "valideur",
    Role.COMMUNICATOR: "com",
    Role.TRAINER: "formateur",
    Role.OPERATOR: "operateur",
    Role.ADMIN: "admin",
}
CALLBACK = "0322334455"  # a caller's callback number: operators and the prefect only
DRAFT = {
    "title": "Crue de la Somme à Abbeville",
    "body": "Situation (14 h) : la Somme déborde à Abbeville.\nCommunes concernées : "
    "Abbeville.\nConsignes : ne vous engagez pas sur les routes inondées.\nPour en savoir "
    "plus : https://www.somme.gouv.fr et ici Picardie.\nProchain point : 18 h.",
    "audiences": ["officials", "media"],
}
# Rows that change nothing an attacker could want, and change at every request.
VOLATILE = {
    "journal_entry",
    "journal_head",
    "journal_checkpoint",
    "web_session",
    "login_failure",
    "idempotency_record",
    "api_token",
    "scheduler_lease",
    "dispatch_instance",
    "rate_budget",
}


@dataclass
class Browser:
    client: httpx.AsyncClient
    csrf: str


@dataclass
class Hardening:
    base: World
    users: dict[Role, TestUser]
    browsers: dict[Role, Browser]
    ids: dict[str, Any] = field(default_factory=dict)

    def url(self, template: str) -> str:
        """A row's path with the world's ids; a CIP `shift_id` is the CIP's, else the roster's."""
        ids = self.ids | {
            "shift_id": self.ids["cip_shift_id" if "/cip/" in template else "roster_shift_id"]
        }
        template = re.sub(r"\{\w+=([^}]*)\}", r"\1", template)  # `{verb=fait}`: that word
        return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), template)


async def _ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.is_success, (answer.request.url, answer.status_code, answer.text[:300])
    data: dict[str, Any] = answer.json()
    return data


async def build(
    client: httpx.AsyncClient, transport: httpx.ASGITransport, db: Database, clock: FrozenClock
) -> Hardening:
    base = await _world(client, db, clock)
    users = {role: base.users[login] for role, login in LOGIN_OF.items()}
    p, c, v = (users[r].headers for r in (Role.PREFECT, Role.COMMUNICATOR, Role.VALIDATOR))
    o, t = users[Role.OPERATOR].headers, users[Role.TRAINER].headers
    cid = base.crisis_id
    ids: dict[str, Any] = {
        "crisis_id": cid,
        "bulletin_id": base.bulletin_id,
        "contact_id": base.contact_id,
        "public_id": base.public_id,
        "drill_id": base.drill_id,
        "run_id": base.run_id,
        "request_id": base.request_id,
        "token": "lien-inconnu",
        "key": "crue",
        "item": 1,
        "position": 1,
    }
    new = f"/api/v1/crises/{cid}/bulletins"
    for name in ("submitted_id", "approved_id"):
        ids[name] = (await _ok(await client.post(new, json=DRAFT, headers=c)))["id"]
        await _ok(await client.post(f"/api/v1/bulletins/{ids[name]}/submit", headers=c))
    await _ok(await client.post(f"/api/v1/bulletins/{ids['approved_id']}/approve", headers=v))
    to_call = f"/api/v1/bulletins/{base.bulletin_id}/deliveries?status=to_call"
    ids["delivery_id"] = (await _ok(await client.get(to_call, headers=c)))["items"][0]["id"]
    cip = f"/api/v1/crises/{cid}/cip"
    shift = await client.post(f"{cip}/operators", json={"role": "operator"}, headers=o)
    ids["cip_shift_id"] = (await _ok(shift))["id"]
    call = {
        "received_at": clock.now().isoformat(),
        "topic": "roads",
        "question": "La route d'Abbeville est-elle coupée ?",
        "follow_up": True,
        "callback_number": CALLBACK,
    }
    ids["call_id"] = (await _ok(await client.post(f"{cip}/calls", json=call, headers=o)))["id"]
    faq = {"question": "Faut-il évacuer ?", "answer": "Non, restez chez vous."}
    ids["entry_id"] = (await _ok(await client.post(f"{cip}/faq", json=faq, headers=c)))["id"]
    roster = {
        "role": "communication",
        "starts_at": clock.now().isoformat(),
        "ends_at": clock.advance(hours=0).replace(hour=20).isoformat(),
        "user_id": users[Role.COMMUNICATOR].id,
    }
    ids["roster_shift_id"] = (
        await _ok(await client.post("/api/v1/roster/shifts", json=roster, headers=p))
    )["id"]
    inject = {"offset_min": 5, "audience": "media", "text": "Un journaliste appelle."}
    added = await client.post(f"/api/v1/exercises/{base.drill_id}/injects", json=inject, headers=t)
    ids["inject_id"] = added.json().get("id", 1) if added.is_success else 1
    target = await make_user(db, clock, "cible", "trainer")
    ids["user_id"] = target.id
    browsers = {}
    for role, user in users.items():
        browser = httpx.AsyncClient(transport=transport, base_url="http://tocsin.test")
        browsers[role] = Browser(browser, await log_in(browser, user.login, user.password))
    async with db.read() as session:
        token = sa.text("SELECT id FROM api_token WHERE user_id = :u")
        ids["token_id"] = (await session.execute(token, {"u": target.id})).scalar_one()
        own = sa.text("SELECT max(id) FROM web_session")
        ids["session_id"] = (await session.execute(own)).scalar_one()
    return Hardening(base, users, browsers, ids)


async def state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the volatile ones: equal before and after = nothing changed."""
    tables = [t for t in metadata.sorted_tables if t.name not in VOLATILE]
    async with db.read() as session:
        return {
            t.name: sorted(
                tuple(map(repr, row)) for row in (await session.execute(sa.select(t))).all()
            )
            for t in tables
        }


def changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def request(
    browser_or_client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    body: dict[str, Any] | None,
    headers: dict[str, str] | None = None,
    csrf: str | None = None,
) -> Any:
    """A request as the route expects it: JSON under /api, a form (with its CSRF) elsewhere."""
    if method == "GET":
        return browser_or_client.get(url, headers=headers)
    if url.startswith("/api/"):
        extra = {"x-csrf-token": csrf} if csrf is not None else {}
        return browser_or_client.request(
            method, url, json=body or {}, headers=(headers or {}) | extra
        )
    form = dict(body or {}) | ({"csrf_token": csrf} if csrf is not None else {})
    return browser_or_client.request(method, url, data=form, headers=headers)
