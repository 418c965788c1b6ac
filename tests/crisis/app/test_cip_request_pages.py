"""Issue 20 item 4 on the pages: the console lists the written requests (late ones flagged), an
operator answers one from its page; the cabinet's CIP section counts them; bad answers refused."""

from __future__ import annotations

import httpx

from crisis.app.db import Database
from tests.crisis.app.web_session import log_in
from tests.crisis.cip.cip_support import cip_world, opened
from tests.crisis.cip.request_support import CITIZEN, received
from tests.support import FrozenClock, make_user


async def test_an_operator_answers_a_written_request_from_its_page_and_late_ones_are_flagged(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    world = await cip_world(client, db, clock)
    await opened(client, world)
    request_id = await received(db, clock, crisis_id=world.crisis_id)
    clock.advance(hours=25)
    operator = world.operators[0]
    csrf = await log_in(client, operator.login, operator.password)
    console = await client.get(f"/evenements/{world.crisis_id}/cip")
    assert "Demandes écrites (1 à traiter, dont 1 en retard)" in console.text
    assert f"/cip/demandes/{request_id}" in console.text
    cabinet = await client.get(f"/fragments/evenements/{world.crisis_id}/cip")
    assert "1 en retard" in cabinet.text
    page_url = f"/evenements/{world.crisis_id}/cip/demandes/{request_id}"
    page = await client.get(page_url)
    assert page.status_code == 200 and CITIZEN in page.text and "En retard" in page.text
    empty = await client.post(f"{page_url}/reponse", data={"text": " ", "csrf_token": csrf})
    assert empty.status_code == 422 and "au moins 3 caractères" in empty.text
    done = await client.post(
        f"{page_url}/reponse", data={"text": "La route est rouverte.", "csrf_token": csrf}
    )
    assert done.status_code == 303, done.text
    page = await client.get(page_url)
    assert "Répondue" in page.text and "Répondue après l'échéance" in page.text
    again = await client.post(f"{page_url}/reponse", data={"text": "Encore.", "csrf_token": csrf})
    assert again.status_code == 409
    trainer = await make_user(db, clock, "formateur", "trainer")
    client.cookies.clear()
    await log_in(client, trainer.login, trainer.password)
    hidden = await client.get(page_url)
    assert hidden.status_code == 200 and CITIZEN not in hidden.text
