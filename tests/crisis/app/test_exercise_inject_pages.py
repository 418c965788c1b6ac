"""The drill page's scenario: the trainer adds, edits and deletes injects by form; a bad one
is refused in French on the page and nothing is written."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from crisis.app.db import Database
from exercises.injects import Inject
from tests.crisis.app.web_session import log_in
from tests.exercises.support import participants
from tests.support import FrozenClock, make_user


async def _injects(db: Database) -> list[Inject]:
    async with db.read() as session:
        return list((await session.exec(select(Inject))).all())


async def test_a_trainer_writes_the_scenario_on_the_drill_page_and_a_bad_inject_is_refused(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    async with db.transaction() as session:
        people = await participants(session, now=clock.now(), count=2)
    body = {
        "title": "Exercice crue de mars",
        "kind": "crisis",
        "playbook": "crue",
        "communes": ["80021"],
        "participants": people,
        "starts_at": (clock.now() + timedelta(days=3)).isoformat(),
    }
    drill = (await client.post("/api/v1/exercises", json=body, headers=trainer.headers)).json()
    csrf = await log_in(client, trainer.login, trainer.password)
    page = (await client.get(f"/exercices/{drill['id']}")).text
    assert "Aucun inject" in page and f'value="contact:{people[1]}"' in page
    form = {
        "csrf_token": csrf,
        "offset_min": "20",
        "target": f"contact:{people[1]}",
        "channel": "sms",
        "text": "La préfecture reçoit un appel d'un habitant inquiet",
        "expected_action": "Répondre à l'habitant",
        "deadline_min": "15",
    }
    added = await client.post(f"/exercices/{drill['id']}/injects", data=form)
    assert added.status_code == 303
    page = (await client.get(f"/exercices/{drill['id']}")).text
    assert "Inject ajouté au scénario." in page and "Joueur1 Exercice" in page
    [inject] = await _injects(db)
    for bad, reason in (
        ({"offset_min": "demain"}, "Décalage : indiquez un nombre entier de minutes."),
        ({"target": "audience:journalistes"}, "Public inconnu pour un inject"),
        ({"expected_action": "", "deadline_min": "5"}, "Un délai de réaction suppose"),
    ):
        await client.post(f"/exercices/{drill['id']}/injects", data=form | bad)
        assert reason in (await client.get(f"/exercices/{drill['id']}")).text
    assert len(await _injects(db)) == 1
    changed = form | {"offset_min": "5", "target": "audience:media"}
    await client.post(f"/exercices/{drill['id']}/injects/{inject.id}/modifier", data=changed)
    [inject] = await _injects(db)
    assert (inject.offset_min, inject.audience, inject.contact_id) == (5, "media", None)
    await client.post(
        f"/exercices/{drill['id']}/injects/{inject.id}/supprimer", data={"csrf_token": csrf}
    )
    assert await _injects(db) == []
