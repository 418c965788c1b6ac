"""The crisis page in the first hour: the next step on top, the COD before the cell, and a
closure with ES48 unmet that asks to be confirmed."""

from __future__ import annotations

import re

import httpx

from crisis.app.clock import paris
from crisis.app.db import Database
from crisis.cell import crises
from tests.crisis.app.web_session import declare_from_form, log_in
from tests.support import FrozenClock, make_user

NEXT_STEP = re.compile(r'<h2 class="fr-callout__title">Prochaine étape : ([^<]+)</h2>')


async def _declared(client: httpx.AsyncClient, db: Database, clock: FrozenClock) -> tuple[str, str]:
    prefect = await make_user(db, clock, "prefete", "prefect")
    csrf = await log_in(client, prefect.login, prefect.password)
    declared = await declare_from_form(client, csrf, "Crue de l'Avre à Montdidier")
    assert declared.status_code == 303
    return csrf, declared.headers["location"]


async def _cod(client: httpx.AsyncClient, csrf: str, page: str, clock: FrozenClock) -> None:
    answer = await client.post(
        f"{page}/cod",
        data={
            "activated_at": paris(clock.now()).strftime("%Y-%m-%dT%H:%M"),
            "synergi_ref": "SYN-80-0412",
            "decided_by": "Mme la préfète",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 303


async def test_the_next_step_comes_first_and_the_cod_is_recorded_before_the_cell(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    csrf, page = await _declared(client, db, clock)
    before = (await client.get(page)).text
    assert NEXT_STEP.findall(before) == ["Ordonner la cellule de communication"]
    assert before.index("Prochaine étape") < before.index("Horloges")
    assert 'id="action-cod"' in before  # the COD form does not wait for the cell
    await _cod(client, csrf, page, clock)
    clock.advance(minutes=12)
    after = (await client.get(page)).text
    assert "Activation du COD enregistrée (ES48)." in after
    assert NEXT_STEP.findall(after) == ["Ordonner la cellule de communication"]
    assert (await client.post(f"{page}/cellule", data={"csrf_token": csrf})).status_code == 303
    ordered = (await client.get(page)).text
    assert NEXT_STEP.findall(ordered) == ["Rédiger le premier communiqué aux élus — modèle prêt"]
    assert "/communiques/nouveau?modele=premiere-information-elus" in ordered
    assert "ES48 : échéance" in ordered and "reste 48 min" in ordered
    assert 'id="action-cod"' not in ordered


async def test_closing_with_es48_unmet_needs_the_confirmation_box(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    csrf, page = await _declared(client, db, clock)
    await _cod(client, csrf, page, clock)
    shown = (await client.get(page)).text
    assert 'aria-controls="modal-cloture"' in shown and 'class="fr-modal"' in shown
    assert "L'ES48 n'est pas tenu" in shown and 'name="confirm_es48_unmet"' in shown
    refused = await client.post(f"{page}/cloture", data={"csrf_token": csrf})
    assert refused.status_code == 303 and refused.headers["location"] == page
    assert "Cochez la confirmation pour clore quand même." in (await client.get(page)).text
    crisis_id = int(page.rsplit("/", 1)[1])
    async with db.read() as session:
        assert (await crises.get(session, crisis_id=crisis_id)).is_open
    closed = await client.post(
        f"{page}/cloture", data={"csrf_token": csrf, "confirm_es48_unmet": "true"}
    )
    assert closed.headers["location"] == f"{page}/bilan"
    async with db.read() as session:
        assert not (await crises.get(session, crisis_id=crisis_id)).is_open


async def test_closing_without_a_cod_asks_no_es48_confirmation(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    csrf, page = await _declared(client, db, clock)
    shown = (await client.get(page)).text
    assert 'name="confirm_es48_unmet"' not in shown
    closed = await client.post(f"{page}/cloture", data={"csrf_token": csrf})
    assert closed.headers["location"] == f"{page}/bilan"
