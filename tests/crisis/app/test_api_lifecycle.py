from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from crisis import journal
from crisis.app.db import Database
from crisis.dispatch.outbox import OutboxMessage
from tests.crisis.app.web_session import csrf_of, log_in
from tests.crisis.lifecycle_support import delivery, roster
from tests.support import FrozenClock, TestUser, make_user

CRUE = {"title": "Crue de la Somme", "kind": "crue", "mode": "real", "communes": ["80001", "80021"]}


async def _last_action(db: Database) -> str:
    async with db.read() as session:
        return (await journal.recent(session, limit=1))[0].action


async def _setup(db: Database, clock: FrozenClock) -> tuple[TestUser, TestUser, dict[str, int]]:
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
    return prefect, com, people


async def test_a_scripted_crisis_walks_through_every_step_and_meets_es47_and_es48(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect, com, people = await _setup(db, clock)
    created = await client.post("/api/v1/crises", json=CRUE, headers=prefect.headers)
    assert created.status_code == 201
    crisis = created.json()
    cid = crisis["id"]
    assert crisis["status"] == "cell_ordered" and crisis["playbook"] == "crue"
    es47 = crisis["clocks"][0]
    assert es47["code"] == "ES47" and es47["status"] == "running"
    assert es47["deadline"] == "2026-11-28T15:00:00+00:00"
    assert crisis["clocks"][1] == {
        "code": "ES48",
        "label": "Élus, médias et public informés",
        "started_at": None,
        "deadline": None,
        "status": "not_started",
        "met_at": None,
        "alerts": [],
    }
    clock.advance(minutes=8)
    for name, role in (("Camille Com1", "communication"), ("Valérie Val1", "validator")):
        ack = await client.post(
            f"/api/v1/crises/{cid}/cell/acknowledgements",
            json={"contact": people[name], "role": role},
            headers=prefect.headers,
        )
        assert ack.status_code == 201 and ack.json()["id"]
    clock.advance(minutes=20)
    operational = await client.post(f"/api/v1/crises/{cid}/cell/operational", headers=com.headers)
    assert operational.status_code == 200
    assert operational.json()["clocks"][0]["status"] == "met"
    assert operational.json()["clocks"][0]["met_at"] == "2026-11-28T14:28:00+00:00"
    cod_at = clock.now() - timedelta(minutes=5)
    cod = await client.post(
        f"/api/v1/crises/{cid}/cod",
        json={
            "activated_at": cod_at.isoformat(),
            "synergi_ref": "SYN-80-2026-0042",
            "decided_by": "Mme la préfète",
        },
        headers=prefect.headers,
    )
    assert cod.status_code == 200 and cod.json()["tracks"]["cod"] == "activated"
    async with db.transaction() as session:
        for aud, cid_, channel in (("officials", 11, "email"), ("media", 12, "email")):
            await delivery(
                session,
                crisis_id=cid,
                audience=aud,
                contact_id=cid_,
                name=aud,
                channel=channel,
                status="sent",
                created_at=clock.now(),
                sent_at=clock.now() + timedelta(minutes=2),
            )
        await delivery(
            session,
            crisis_id=cid,
            audience="public",
            channel="public_page",
            status="sent",
            created_at=clock.now(),
            sent_at=clock.now(),
        )
    clock.advance(minutes=10)
    clocks = (await client.get(f"/api/v1/crises/{cid}/clocks", headers=com.headers)).json()
    es48 = clocks[1]
    assert es48["status"] == "met" and es48["met_at"] == "2026-11-28T14:30:00+00:00"
    assert es48["coverage"]["officials"] == {
        "covered_at": "2026-11-28T14:30:00+00:00",
        "reached": 1,
        "total": 1,
        "missing": [],
        "missing_count": 0,
    }
    closed = await client.post(f"/api/v1/crises/{cid}/close", headers=prefect.headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["summary"]["bulletins"] == 1
    actions = [
        e["action"]
        for e in (await client.get(f"/api/v1/crises/{cid}/journal", headers=com.headers)).json()[
            "items"
        ]
    ]
    assert actions == [  # each step the system saw also ticks its checklist line
        "crisis.declared",
        "cell.ordered",
        "cell.paged",
        "checklist.ticked",
        "cell.acknowledged",
        "cell.acknowledged",
        "cell.operational",
        "checklist.ticked",
        "cod.activated",
        "checklist.ticked",
        "crisis.closed",
    ]


async def test_refused_transitions_are_409_journaled_and_change_nothing(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect, com, _ = await _setup(db, clock)
    cid = (
        await client.post(
            "/api/v1/crises", json=CRUE | {"activate_cell": False}, headers=prefect.headers
        )
    ).json()["id"]
    before = (await client.get(f"/api/v1/crises/{cid}", headers=prefect.headers)).json()
    assert before["status"] == "declared"
    cases = [
        (
            "post",
            f"/api/v1/crises/{cid}/cell/operational",
            None,
            prefect,
            409,
            "transition_out_of_order",
        ),
        (
            "post",
            f"/api/v1/crises/{cid}/cell/acknowledgements",
            {"role": "communication"},
            com,
            409,
            "cell_not_ordered",
        ),
        ("post", f"/api/v1/crises/{cid}/cell/activate", None, com, 403, "forbidden_role"),
    ]
    for method, path, body, user, status, code in cases:
        answer = await client.request(method, path, json=body, headers=user.headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), path
        assert await _last_action(db) == "refused"
    after = (await client.get(f"/api/v1/crises/{cid}", headers=prefect.headers)).json()
    assert after == before
    assert (
        await client.post(f"/api/v1/crises/{cid}/cell/activate", headers=prefect.headers)
    ).status_code == 200
    again = await client.post(f"/api/v1/crises/{cid}/cell/activate", headers=prefect.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_done"
    early = await client.post(f"/api/v1/crises/{cid}/cell/operational", headers=com.headers)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "minimum_staffing_not_met"
    assert "Effectif minimal non atteint" in early.json()["error"]["message"]
    assert await _last_action(db) == "refused"


async def test_the_cod_is_recorded_before_the_cell_is_operational(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect, _, _ = await _setup(db, clock)
    cid = (await client.post("/api/v1/crises", json=CRUE, headers=prefect.headers)).json()["id"]
    clock.advance(minutes=6)
    decided = clock.now() - timedelta(minutes=1)
    cod = await client.post(
        f"/api/v1/crises/{cid}/cod",
        json={"activated_at": decided.isoformat(), "synergi_ref": "S-7", "decided_by": "Préfète"},
        headers=prefect.headers,
    )
    assert cod.status_code == 200, cod.text
    crisis = cod.json()
    assert crisis["status"] == "cell_ordered"
    assert crisis["tracks"] == {
        "open": True,
        "cell": "ordered",
        "cod": "activated",
        "cip": "not_ordered",
    }
    es48 = next(c for c in crisis["clocks"] if c["code"] == "ES48")
    assert es48["status"] == "running" and es48["started_at"] == decided.isoformat()
    closed = await client.post(f"/api/v1/crises/{cid}/close", headers=prefect.headers)
    assert closed.status_code == 200  # the API closes with ES48 unmet, as the contract says
    late = await client.post(f"/api/v1/crises/{cid}/cod", json={}, headers=prefect.headers)
    assert late.status_code == 409 and late.json()["error"]["code"] == "crisis_closed"


async def test_a_cod_in_the_future_or_without_synergi_reference_is_refused_and_journaled(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect, com, _ = await _setup(db, clock)
    validator = await make_user(db, clock, "valideur", "validator")
    cid = (await client.post("/api/v1/crises", json=CRUE, headers=prefect.headers)).json()["id"]
    for role, user in (("communication", com), ("validator", validator)):
        answer = await client.post(
            f"/api/v1/crises/{cid}/cell/acknowledgements", json={"role": role}, headers=user.headers
        )
        assert answer.status_code == 201
    dup = await client.post(
        f"/api/v1/crises/{cid}/cell/acknowledgements",
        json={"role": "validator"},
        headers=validator.headers,
    )
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "already_acknowledged"
    assert (
        await client.post(f"/api/v1/crises/{cid}/cell/operational", headers=prefect.headers)
    ).status_code == 200
    bad = [
        (
            {
                "activated_at": (clock.now() + timedelta(minutes=3)).isoformat(),
                "synergi_ref": "S-12",
                "decided_by": "Préfète",
            },
            409,
            "cod_in_future",
        ),
        (
            {
                "activated_at": (clock.now() - timedelta(hours=30)).isoformat(),
                "synergi_ref": "S-12",
                "decided_by": "Préfète",
            },
            409,
            "cod_too_old",
        ),
        (
            {"activated_at": clock.now().isoformat(), "decided_by": "Préfète"},
            422,
            "synergi_ref_missing",
        ),
        (
            {"activated_at": "2026-11-28T13:00:00", "synergi_ref": "S-12", "decided_by": "Préfète"},
            422,
            "activated_at_invalid",
        ),
    ]
    for body, status, code in bad:
        answer = await client.post(f"/api/v1/crises/{cid}/cod", json=body, headers=prefect.headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), body
        assert await _last_action(db) == "refused"
    state = (await client.get(f"/api/v1/crises/{cid}", headers=prefect.headers)).json()
    assert state["status"] == "cell_operational" and state["cod"]["activated_at"] is None
    decided = clock.now() - timedelta(hours=3)  # a COD decided before Tocsin knew of the crisis
    ok = await client.post(
        f"/api/v1/crises/{cid}/cod",
        json={"activated_at": decided.isoformat(), "synergi_ref": "S-12", "decided_by": "Préfète"},
        headers=prefect.headers,
    )
    assert ok.status_code == 200 and ok.json()["clocks"][1]["status"] == "overdue"
    twice = await client.post(
        f"/api/v1/crises/{cid}/cod",
        json={"activated_at": decided.isoformat(), "synergi_ref": "S-12", "decided_by": "Préfète"},
        headers=prefect.headers,
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_done"


async def test_the_checklist_is_ticked_and_unticked_with_who_and_when(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect, com, _ = await _setup(db, clock)
    cid = (await client.post("/api/v1/crises", json=CRUE, headers=prefect.headers)).json()["id"]
    items = (await client.get(f"/api/v1/crises/{cid}", headers=com.headers)).json()["checklist"]
    assert items[0]["due_at"] == "2026-11-28T14:00:00+00:00"
    assert items[0]["action"] == "order_cell"  # ticked by Tocsin when the cell was ordered
    assert items[0]["done_at"] == "2026-11-28T14:00:00+00:00"
    clock.advance(minutes=3)
    done = await client.post(f"/api/v1/crises/{cid}/checklist/3/done", headers=com.headers)
    assert done.status_code == 200
    assert (done.json()["done_by"], done.json()["done_at"]) == ("com", "2026-11-28T14:03:00+00:00")
    again = await client.post(f"/api/v1/crises/{cid}/checklist/3/done", headers=com.headers)
    assert again.status_code == 409
    undone = await client.delete(f"/api/v1/crises/{cid}/checklist/3/done", headers=com.headers)
    assert undone.json()["done_at"] is None
    missing = await client.post(f"/api/v1/crises/{cid}/checklist/99/done", headers=com.headers)
    assert missing.status_code == 404
    async with db.read() as session:
        actions = [e.action for e in await journal.for_crisis(session, crisis_id=cid)]
    assert actions[-3:] == ["checklist.ticked", "refused", "checklist.unticked"]


async def test_the_paging_link_acknowledges_once_through_a_french_page(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect, _com, _ = await _setup(db, clock)
    cid = (await client.post("/api/v1/crises", json=CRUE, headers=prefect.headers)).json()["id"]
    async with db.read() as session:
        link = (await session.exec(select(OutboxMessage.link))).first()
    assert link
    path = "/acquitter/" + link.rsplit("/", 1)[1]
    page = await client.get(path)
    assert page.status_code == 200 and "Je confirme ma venue" in page.text
    done = await client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "votre réponse est enregistrée" in done.text
    used = await client.post(path, data={"csrf_token": csrf_of(page.text)})
    assert used.status_code == 409 and "déjà servi" in used.text
    assert (await client.get("/acquitter/faux-jeton")).status_code == 404
    async with db.read() as session:
        actions = [e.action for e in await journal.for_crisis(session, crisis_id=cid)]
    assert actions.count("cell.acknowledged") == 1


async def test_the_web_page_drives_the_lifecycle_and_closing_gives_a_summary(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    prefect, _, _ = await _setup(db, clock)
    csrf = await log_in(client, prefect.login, prefect.password)
    cid = (
        await client.post(
            "/api/v1/crises", json=CRUE | {"activate_cell": False}, headers=prefect.headers
        )
    ).json()["id"]
    page = await client.get(f"/evenements/{cid}")
    assert "Ordonner la cellule de communication" in page.text
    assert "Liste de la fiche réflexe" in page.text and "Non démarrée" in page.text
    ordered = await client.post(f"/evenements/{cid}/cellule", data={"csrf_token": csrf})
    assert ordered.status_code == 303
    page = await client.get(f"/evenements/{cid}")
    assert (
        "Cellule ordonnée" in page.text and 'data-deadline="2026-11-28T15:00:00+00:00"' in page.text
    )
    refused = await client.post(
        f"/evenements/{cid}/cellule/operationnelle", data={"csrf_token": csrf}
    )
    assert refused.status_code == 303
    assert "Effectif minimal non atteint" in (await client.get(f"/evenements/{cid}")).text
    assert await _last_action(db) == "refused"
    dashboard = await client.get("/")
    assert "ES47" in dashboard.text and "Échéance 28/11/2026 à 16 h 00" in dashboard.text
    closed = await client.post(f"/evenements/{cid}/cloture", data={"csrf_token": csrf})
    assert closed.headers["location"] == f"/evenements/{cid}/bilan"
    summary = await client.get(f"/evenements/{cid}/bilan")
    assert "Bilan : Crue de la Somme" in summary.text and "non tenu (dépassé)" not in summary.text
    download = await client.get(f"/evenements/{cid}/bilan.html")
    assert "attachment" in download.headers["content-disposition"]
    assert "/static/" not in download.text and "Chronologie" in download.text
