"""Issue 20: the CIP page — the prefect orders, operators check in, the head opens, a call is
logged from the console's form, and the crisis page shows the cabinet's figures."""

from __future__ import annotations

import httpx
from sqlmodel import select

from crisis.app.db import Database
from crisis.dispatch.outbox import OutboxMessage
from tests.crisis.app.web_session import csrf_of, log_in
from tests.crisis.cip.cip_support import CipWorld, cip_world
from tests.crisis.lifecycle_support import add_on_call
from tests.support import FrozenClock, TestUser, make_user


async def _as(client: httpx.AsyncClient, user: TestUser) -> str:
    client.cookies.clear()
    return await log_in(client, user.login, user.password)


async def _post(
    client: httpx.AsyncClient, user: TestUser, path: str, **data: str
) -> httpx.Response:
    csrf = await _as(client, user)
    return await client.post(path, data=data | {"csrf_token": csrf})


async def _open_from_the_pages(client: httpx.AsyncClient, world: CipWorld) -> str:
    page = f"/evenements/{world.crisis_id}/cip"
    ordered = await _post(client, world.prefect, f"{page}/ordre", number="0800 100 200")
    assert ordered.status_code == 303, ordered.text
    staff = [
        (world.head, "head"),
        (world.operators[0], "operator"),
        (world.operators[1], "operator"),
    ]
    for user, role in staff:
        checked = await _post(client, user, f"{page}/poste", role=role)
        assert checked.status_code == 303, checked.text
    opened = await _post(client, world.head, f"{page}/ouverture")
    assert opened.status_code == 303
    return page


async def test_the_cip_is_ordered_staffed_and_opened_from_its_page_and_a_call_saved_from_the_form(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    page = await _open_from_the_pages(client, world)
    csrf = await _as(client, world.operators[0])
    console = await client.get(page)
    assert console.status_code == 200
    assert "0 800 10 02 00" in console.text and 'id="cip-call"' in console.text
    assert "ES50 : tenu" in console.text  # in French, as every clock
    call = {
        "received_at": "2026-11-28T14:58:10",
        "answered_at": "2026-11-28T14:58:40",
        "ended_at": "2026-11-28T15:00:00",
        "commune": "Abbeville (80001), ",
        "topic": "roads",
        "question": "La route d'Abbeville est-elle coupée ?",
        "answer": "Oui, déviation par la D925.",
        "csrf_token": csrf,
    }
    saved = await client.post(f"{page}/appels", data=call)
    assert saved.status_code == 303 and "?appel=" in saved.headers["location"]
    backwards = call | {"answered_at": "2026-11-28T14:50:00"}
    refused = await client.post(f"{page}/appels", data=backwards)
    assert refused.status_code == 422
    assert "décroché avant d" in refused.text and "La route d&#39;Abbeville" in refused.text
    section = await client.get(f"/fragments/evenements/{world.crisis_id}/cip")
    assert "Abbeville : 1" in section.text and 'data-figure="p50">30 s' in section.text
    crisis_page = await client.get(f"/evenements/{world.crisis_id}")
    assert f"/fragments/evenements/{world.crisis_id}/cip" in crisis_page.text


async def test_an_operator_sees_no_order_form_and_is_refused_if_they_post_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    page = f"/evenements/{world.crisis_id}/cip"
    await _as(client, world.operators[0])
    console = await client.get(page)
    assert console.status_code == 200 and 'id="cip-ordre"' not in console.text
    csrf = csrf_of(console.text)
    refused = await client.post(f"{page}/ordre", data={"number": "0800100200", "csrf_token": csrf})
    assert refused.status_code == 403


async def test_the_callback_number_of_a_follow_up_is_shown_to_operators_not_to_communicators(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    page = await _open_from_the_pages(client, world)
    csrf = await _as(client, world.operators[0])
    call = {
        "received_at": "2026-11-28T14:58:10",
        "topic": "relatives",
        "question": "Ma mère est-elle évacuée ?",
        "follow_up": "true",
        "callback_number": "06 12 34 56 78",
        "csrf_token": csrf,
    }
    assert (await client.post(f"{page}/appels", data=call)).status_code == 303
    assert "06 12 34 56 78" in (await client.get(page)).text
    await _as(client, world.com)
    as_com = await client.get(page)
    assert "Ma mère est-elle évacuée" in as_com.text and "06 12 34 56 78" not in as_com.text


async def test_the_bulletin_announcing_the_number_is_prepared_from_the_playbook_with_it(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    page = f"/evenements/{world.crisis_id}/cip"
    assert (
        await _post(client, world.prefect, f"{page}/ordre", number="0800100200")
    ).status_code == 303
    await _as(client, world.com)
    console = (await client.get(page)).text
    href = f"/evenements/{world.crisis_id}/communiques/nouveau?modele=ouverture-cip-public"
    assert f'href="{href}"' in console
    composer = await client.get(href)
    assert composer.status_code == 200
    assert "appelez le 0 800 10 02 00" in composer.text


async def test_the_operators_cip_link_leads_to_the_console_of_the_cip_running(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await _as(client, world.operators[0])
    home = await client.get("/")
    assert 'href="/cip"' in home.text
    assert "Aucune CIP" in (await client.get("/cip")).text
    await _post(
        client, world.prefect, f"/evenements/{world.crisis_id}/cip/ordre", number="0800100200"
    )
    await _as(client, world.operators[0])
    answer = await client.get("/cip")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/evenements/{world.crisis_id}/cip"
    await _as(client, world.com)
    assert 'href="/cip"' not in (await client.get("/")).text


async def test_a_question_without_a_faq_answer_becomes_a_suggested_entry_for_the_communicators(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    page = await _open_from_the_pages(client, world)
    csrf = await _as(client, world.operators[0])
    call = {"received_at": "2026-11-28T14:58:10", "topic": "water", "csrf_token": csrf}
    call["question"] = "Peut-on boire l'eau du robinet ?"
    assert (await client.post(f"{page}/appels", data=call)).status_code == 303
    await _as(client, world.com)
    console = (await client.get(page)).text
    link = "?question=Peut-on%20boire%20l%27eau%20du%20robinet%20%3F#cip-faq-write"
    assert f'href="{link}"' in console
    prefilled = await client.get(f"{page}?question=Peut-on boire l'eau du robinet ?")
    assert (
        'name="question" maxlength="1000" required value="Peut-on boire l&#39;eau' in prefilled.text
    )


async def test_the_cip_page_of_an_exercise_carries_the_exercise_banner(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    body = {"title": "Exercice crue", "kind": "crue", "mode": "exercise", "communes": ["80001"]}
    drill = await client.post("/api/v1/crises", json=body, headers=world.prefect.headers)
    await _as(client, world.operators[0])
    page = await client.get(f"/evenements/{drill.json()['id']}/cip")
    assert "EXERCICE — EXERCICE — EXERCICE" in page.text
    real = await client.get(f"/evenements/{world.crisis_id}/cip")
    assert "EXERCICE — EXERCICE — EXERCICE" not in real.text


async def test_the_cip_page_shows_who_of_its_roster_was_paged_and_who_answered(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    async with db.transaction() as session:
        for name, level in (("Olga Op1", 1), ("Oscar Op2", 2)):
            await add_on_call(session, name=name, role="cip_operator", level=level, now=clock.now())
    page = f"/evenements/{world.crisis_id}/cip"
    ordered = await _post(client, world.prefect, f"{page}/ordre", number="0800 100 200")
    assert ordered.status_code == 303, ordered.text
    async with db.read() as session:
        link = (await session.exec(select(OutboxMessage.link))).first()
    assert link is not None
    path = "/acquitter/" + link.rsplit("/", 1)[1]
    client.cookies.clear()
    form = await client.get(path)
    assert form.status_code == 200 and "information du public (CIP)" in form.text
    done = await client.post(path, data={"csrf_token": csrf_of(form.text)})
    assert done.status_code == 200 and "La CIP vous attend" in done.text
    await _as(client, world.prefect)
    shown = await client.get(page)
    assert "Astreinte de la CIP appelée (1)" in shown.text
    assert "Olga Op1" in shown.text and "a répondu, en route" in shown.text
    assert "Oscar Op2" not in shown.text  # level 2 is paged only if level 1 does not answer


async def test_the_roster_api_takes_the_cip_roles_and_refuses_an_unknown_one(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    admin = await make_user(db, clock, "admin", "admin")
    operator = await make_user(db, clock, "op", "operator")
    shift = {
        "role": "cip_operator",
        "level": 2,
        "starts_at": "2026-11-28T08:00:00+01:00",
        "ends_at": "2026-11-29T08:00:00+01:00",
        "user_id": operator.id,
        "name": "Odile Opératrice",
    }
    added = await client.post("/api/v1/roster/shifts", json=shift, headers=admin.headers)
    assert added.status_code == 201, added.text
    assert (added.json()["role"], added.json()["level"]) == ("cip_operator", 2)
    wrong = shift | {"role": "cip_chef"}
    refused = await client.post("/api/v1/roster/shifts", json=wrong, headers=admin.headers)
    assert refused.status_code == 422
