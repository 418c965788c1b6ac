"""An attacker with a valid account (issue 22, item 2): ids of another crisis' objects under
this crisis' path, a drill's runs and injects under another drill, an exercise's public
bulletin outside the exercise view, and a caller's callback number read by a role without the
need to call back (`crisis.cip.privacy`: operators and the prefect only) on any route.

Recipients' personal data on every GET route is `tests/crisis/app/test_personal_data.py`.
"""

from __future__ import annotations

import re

import httpx

from crisis.actors import Role
from crisis.app.db import Database
from tests.exercises.support import crisis_drill_body, participants
from tests.hardening.matrix import LINK, MATRIX, PUBLIC
from tests.hardening.world import CALLBACK, DRAFT, Hardening, changed, request, state
from tests.support import FrozenClock

STREAMS = {"GET /flux"}
WITHOUT_CALLBACK_NEED = (Role.TRAINER, Role.COMMUNICATOR, Role.VALIDATOR, Role.ADMIN)


def _flat(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f.+-]", "", text)


async def test_no_role_without_the_need_reads_a_callers_callback_number_on_any_route(
    world: Hardening,
) -> None:
    reads = [
        key
        for key, row in MATRIX.items()
        if key.startswith("GET ") and key not in STREAMS and row.may not in (PUBLIC, LINK)
    ]
    api = world.browsers[Role.ADMIN].client
    leaks, seen_by_operator = [], []
    local = CALLBACK[1:]  # « 03 22 33 44 55 » or « +33 3 22 33 44 55 »
    for key in reads:
        url = world.url(key.partition(" ")[2])
        for role in (*WITHOUT_CALLBACK_NEED, Role.OPERATOR):
            answer = await api.get(url, headers=world.users[role].headers)
            if local in _flat(answer.text):
                (seen_by_operator if role is Role.OPERATOR else leaks).append(f"{role} {key}")
    assert leaks == [], "\n".join(leaks)
    assert seen_by_operator, "the operator who calls back reads the number somewhere"


async def _other_crisis(
    world: Hardening, api: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> dict[str, int]:
    """An exercise crisis with its own CIP shift, call and FAQ entry; a second drill's inject."""
    p, c = world.users[Role.PREFECT].headers, world.users[Role.COMMUNICATOR].headers
    op, t = world.users[Role.OPERATOR].headers, world.users[Role.TRAINER].headers
    body = {"title": "Exercice crue", "kind": "crue", "mode": "exercise", "communes": ["80001"]}
    cid = (await api.post("/api/v1/crises", json=body, headers=p)).json()["id"]
    cip = f"/api/v1/crises/{cid}/cip"
    assert (await api.post(cip, json={"number": "0 800 10 02 01"}, headers=p)).is_success
    shift = await api.post(f"{cip}/operators", json={"role": "operator"}, headers=op)
    call = {"received_at": clock.now().isoformat(), "topic": "roads", "question": "Route ?"}
    called = await api.post(f"{cip}/calls", json=call, headers=op)
    faq = {"question": "Évacuer ?", "answer": "Non."}
    entry = await api.post(f"{cip}/faq", json=faq, headers=c)
    async with db.transaction() as session:
        drill = crisis_drill_body(await participants(session, now=clock.now()))
    planned = await api.post("/api/v1/exercises", json=drill, headers=t)
    assert planned.is_success, planned.text
    drill_id = planned.json()["id"]
    inject = {"offset_min": 5, "audience": "media", "text": "Un journaliste appelle."}
    injected = await api.post(f"/api/v1/exercises/{drill_id}/injects", json=inject, headers=t)
    for answer in (shift, called, entry, injected):
        assert answer.is_success, answer.text
    return {
        "crisis": cid,
        "shift": shift.json()["id"],
        "call": called.json()["id"],
        "entry": entry.json()["id"],
        "drill": drill_id,
        "inject": injected.json()["id"],
    }


# (method, path with this world's crisis or drill and the OTHER's object, who tries)
CROSSED: list[tuple[str, str, Role]] = [
    ("POST", "/api/v1/crises/{crisis_id}/cip/calls/{call}/follow-up/done", Role.OPERATOR),
    ("POST", "/evenements/{crisis_id}/cip/appels/{call}/rappel", Role.OPERATOR),
    ("POST", "/api/v1/crises/{crisis_id}/cip/faq/{entry}/approve", Role.VALIDATOR),
    ("POST", "/evenements/{crisis_id}/cip/faq/{entry}/validation", Role.VALIDATOR),
    ("DELETE", "/api/v1/crises/{crisis_id}/cip/operators/{shift}", Role.PREFECT),
    ("POST", "/evenements/{crisis_id}/cip/poste/{shift}/fin", Role.PREFECT),
    ("PUT", "/api/v1/exercises/{drill_id}/injects/{inject}", Role.TRAINER),
    ("DELETE", "/api/v1/exercises/{drill_id}/injects/{inject}", Role.TRAINER),
    ("POST", "/exercices/{drill_id}/injects/{inject}/supprimer", Role.TRAINER),
    ("POST", "/api/v1/exercises/{drill_id}/runs/{run_id}/injects/{inject}/release", Role.TRAINER),
    ("GET", "/api/v1/exercises/{drill}/runs/{run_id}/report", Role.TRAINER),
    ("GET", "/exercices/{drill}/seances/{run_id}", Role.TRAINER),
]


async def test_an_object_of_another_crisis_or_drill_is_not_found_under_this_ones_path(
    world: Hardening, db: Database, clock: FrozenClock
) -> None:
    api = world.browsers[Role.ADMIN].client
    other = await _other_crisis(world, api, db, clock)
    before = await state(db)
    wrong = []
    for method, template, role in CROSSED:
        url = world.url(
            re.sub(
                r"\{(call|entry|shift|inject|drill)\}", lambda m: str(other[m.group(1)]), template
            )
        )
        browser = world.browsers[role]
        if url.startswith("/api/"):
            body = {"offset_min": 5, "audience": "media", "text": "Modifié."}
            answer = await request(
                api,
                method,
                url,
                body=body if method == "PUT" else None,
                headers=world.users[role].headers,
            )
        else:
            answer = await request(browser.client, method, url, body={}, csrf=browser.csrf)
        # 404; or refused for the path's own state first (its drill is running: 409, or a
        # page's flash, 303): never the other's object touched, as the tables show below
        if answer.status_code not in (404, 409, 303):
            wrong.append(f"{method} {template} {role}: {answer.status_code} {answer.text[:100]}")
    assert wrong == [], "\n".join(wrong)
    assert changed(before, await state(db)) == []


async def test_an_exercise_bulletin_is_not_public_outside_the_exercise_view(
    world: Hardening, clock: FrozenClock
) -> None:
    api = world.browsers[Role.ADMIN].client
    p, c = world.users[Role.PREFECT].headers, world.users[Role.COMMUNICATOR].headers
    v = world.users[Role.VALIDATOR].headers
    body = {"title": "Exercice crue", "kind": "crue", "mode": "exercise", "communes": ["80001"]}
    cid = (await api.post("/api/v1/crises", json=body, headers=p)).json()["id"]
    draft = DRAFT | {"audiences": ["public"], "channels": ["public_page"]}
    bid = (await api.post(f"/api/v1/crises/{cid}/bulletins", json=draft, headers=c)).json()["id"]
    for step, who in (("submit", c), ("approve", v), ("publish", c)):
        done = await api.post(f"/api/v1/bulletins/{bid}/{step}", headers=who)
        assert done.is_success, done.text
    public_id = (await api.get(f"/api/v1/bulletins/{bid}", headers=c)).json()["public_id"]
    assert (await api.get(f"/public/bulletins/{public_id}")).status_code == 404
    assert (await api.get(f"/public/bulletins/{public_id}?mode=exercise")).status_code == 200
    listed = await api.get("/public/bulletins")
    assert public_id not in listed.text
