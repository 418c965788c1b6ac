"""The participants' feedback form over HTTP: no login, the signed link is the key, answered
once (a second use: 409 and a French page), the answers in the report page and its PDF."""

from __future__ import annotations

import re

import httpx
from sqlmodel import col, select

from crisis.app.db import Database
from crisis.dispatch.outbox import OutboxMessage
from tests.crisis.app.web_session import csrf_of
from tests.crisis.lifecycle_support import roster
from tests.exercises.support import crisis_drill_body, participants
from tests.support import FrozenClock, make_user

LINK = re.compile(r"/retour-exercice/(\S+)")


async def _ended_drill(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> tuple[str, str, dict[str, str]]:
    """A crisis drill launched then stopped through the API: (its report path, one
    participant's form path, the trainer's headers)."""
    trainer = await make_user(db, clock, "formatrice", "trainer")
    async with db.transaction() as session:
        await roster(session, now=clock.now())
        people = await participants(session, now=clock.now(), count=1)
    drill = (
        await client.post(
            "/api/v1/exercises", json=crisis_drill_body(people), headers=trainer.headers
        )
    ).json()
    url = f"/api/v1/exercises/{drill['id']}"
    run_id = (await client.post(f"{url}/launch", headers=trainer.headers)).json()["run_id"]
    clock.advance(minutes=40)
    stopped = await client.post(
        f"{url}/runs/{run_id}/stop", json={"reason": "Fin du scénario"}, headers=trainer.headers
    )
    assert stopped.status_code == 200, stopped.text
    async with db.read() as session:
        query = select(OutboxMessage.text).where(col(OutboxMessage.text).contains("/retour"))
        [text] = (await session.exec(query)).all()
    match = LINK.search(text)
    assert match is not None
    return (
        f"/exercices/{drill['id']}/seances/{run_id}",
        f"/retour-exercice/{match.group(1)}",
        trainer.headers,
    )


async def test_a_participant_answers_the_three_questions_once_without_logging_in(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    report, form, trainer = await _ended_drill(client, db, clock)
    page = await client.get(form)
    assert page.status_code == 200
    assert "Exercice crue annuel" in page.text and "a bien fonctionné ?" in page.text
    answers = {
        "rating": "4",
        "went_well": "La chaîne d'alerte a tenu",
        "to_improve": "Numéros des maires",
        "csrf_token": csrf_of(page.text),
    }
    no_csrf = await client.post(form, data={k: v for k, v in answers.items() if k != "csrf_token"})
    assert no_csrf.status_code == 403
    sent = await client.post(form, data=answers)
    assert sent.status_code == 200 and "vos réponses sont enregistrées" in sent.text
    again = await client.post(form, data=answers | {"rating": "1"})
    assert again.status_code == 409 and "Vous avez déjà répondu à ce questionnaire" in again.text
    reopened = await client.get(form)
    assert "Questionnaire déjà rempli" in reopened.text and "<form method" not in reopened.text
    shown = await client.get(report, headers=trainer)
    assert (
        "Retours des participants" in shown.text and "La chaîne d&#39;alerte a tenu" in shown.text
    )
    assert "note moyenne : 4,0 sur 5" in shown.text
    pdf = await client.get(f"{report}/bilan.pdf", headers=trainer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_a_bad_rating_is_refused_in_french_and_a_forged_link_answers_404(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    _, form, _ = await _ended_drill(client, db, clock)
    page = await client.get(form)
    refused = await client.post(form, data={"rating": "7", "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 422 and "Choisissez une note de 1 à 5." in refused.text
    assert "<form method" in refused.text
    forged = await client.get(form[:-3] + "abc")
    assert forged.status_code == 404 and "pas valide" in forged.text
