"""Issue 20: after the prefect closes the CIP, each person who held a shift writes one debrief
(hard calls, needs), which joins the CIP's report in the crisis summary page and PDF."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from crisis import journal
from crisis.app.db import Database
from tests.crisis.app.web_session import log_in
from tests.crisis.cip.cip_support import CipWorld, cip_world, opened, summary_texts
from tests.support import FrozenClock

DEBRIEF = {"hard_calls": "Une mère sans nouvelles de son fils", "needs": "Un troisième poste"}


async def _debriefs_in_db(db: Database) -> int:
    async with db.read() as session:
        found = await session.execute(sa.text("SELECT count(*) FROM cip_debrief"))
        return int(found.scalar_one())


async def _last_refusal(db: Database) -> dict[str, Any]:
    import json

    async with db.read() as session:
        entries = await journal.recent(session, limit=20)
    return next(json.loads(e.payload) for e in entries if e.action == "refused")


async def _closed(client: httpx.AsyncClient, world: CipWorld) -> None:
    await opened(client, world)
    closed = await client.delete(world.base, headers=world.prefect.headers)
    assert closed.status_code == 200, closed.text


async def test_an_operator_who_held_a_shift_writes_one_debrief_after_the_close(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    op = world.operators[0]
    path = f"{world.base}/debriefs"
    early = await client.post(path, json=DEBRIEF, headers=op.headers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "cip_not_closed"
    assert "une fois la CIP fermée" in early.json()["error"]["message"]
    assert (await client.delete(world.base, headers=world.prefect.headers)).status_code == 200
    clock.advance(minutes=30)
    written = await client.post(path, json=DEBRIEF, headers=op.headers)
    assert written.status_code == 201, written.text
    assert written.json() | {"id": 0} == {
        "id": 0,
        "user": op.id,
        "person": written.json()["person"],
        "hard_calls": DEBRIEF["hard_calls"],
        "needs": DEBRIEF["needs"],
        "written_at": clock.now().isoformat(),
    }
    again = await client.post(path, json={"needs": "Autre chose"}, headers=op.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "debrief_already_written"
    listed = (await client.get(path, headers=world.com.headers)).json()["items"]
    assert [d["needs"] for d in listed] == [DEBRIEF["needs"]]
    async with db.read() as session:
        actions = [e.action for e in await journal.recent(session, limit=10)]
    assert "cip.debrief_written" in actions
    assert await _debriefs_in_db(db) == 1


async def test_someone_who_never_held_a_shift_cannot_debrief_the_cip(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await _closed(client, world)
    path = f"{world.base}/debriefs"
    for outsider in (world.operators[2], world.com, world.prefect):
        refused = await client.post(path, json=DEBRIEF, headers=outsider.headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "no_cip_shift"
    assert (await _last_refusal(db))["code"] == "no_cip_shift"
    assert await _debriefs_in_db(db) == 0


async def test_an_empty_or_too_long_debrief_is_refused_in_french_and_nothing_is_written(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await _closed(client, world)
    path = f"{world.base}/debriefs"
    empty = await client.post(
        path, json={"hard_calls": "  ", "needs": ""}, headers=world.head.headers
    )
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "debrief_empty"
    assert "Débriefing vide" in empty.json()["error"]["message"]
    long = await client.post(path, json={"hard_calls": "x" * 2001}, headers=world.head.headers)
    assert long.status_code == 422 and long.json()["error"]["code"] == "debrief_too_long"
    assert "« Appels difficiles » est trop long" in long.json()["error"]["message"]
    assert await _debriefs_in_db(db) == 0
    later = await client.post(path, json=DEBRIEF, headers=world.head.headers)
    assert later.status_code == 201, later.text


async def test_the_debriefs_join_the_cip_report_of_the_crisis_summary_page_and_pdf(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await _closed(client, world)
    path = f"{world.base}/debriefs"
    assert (await client.post(path, json=DEBRIEF, headers=world.head.headers)).status_code == 201
    only_needs = {"needs": "Des fiches réflexes imprimées"}
    answer = await client.post(path, json=only_needs, headers=world.operators[1].headers)
    assert answer.status_code == 201
    page, text = await summary_texts(client, world)
    assert "Débriefing de " in page
    assert "Appels difficiles : Une mère sans nouvelles de son fils" in page
    assert "Besoins pour la prochaine fois : Des fiches réflexes imprimées" in page
    assert "Une mère sans nouvelles de son fils" in text
    assert "Des fiches réflexes imprimées" in text


async def test_the_console_offers_the_debrief_form_once_closed_to_who_held_a_shift_only(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    page = f"/evenements/{world.crisis_id}/cip"
    op = world.operators[0]
    await log_in(client, op.login, op.password)
    assert 'id="cip-debrief-form"' not in (await client.get(page)).text  # not closed yet
    assert (await client.delete(world.base, headers=world.prefect.headers)).status_code == 200
    csrf = await log_in(client, op.login, op.password)
    assert 'id="cip-debrief-form"' in (await client.get(page)).text
    empty = await client.post(f"{page}/debriefing", data={"csrf_token": csrf, "needs": " "})
    assert empty.status_code == 422 and "Débriefing vide" in empty.text
    saved = await client.post(
        f"{page}/debriefing", data={"csrf_token": csrf, "hard_calls": "Deux appels en anglais"}
    )
    assert saved.status_code == 303
    after = (await client.get(page)).text
    assert 'id="cip-debrief-form"' not in after and "Deux appels en anglais" in after
    client.cookies.clear()
    outsider = world.operators[2]
    await log_in(client, outsider.login, outsider.password)
    assert 'id="cip-debrief-form"' not in (await client.get(page)).text
