"""Changing and removing a drill from its page: the filled form, its refusals in French, and
the « Supprimer » button that asks for a confirmation."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from crisis.app.db import Database
from exercises.programme import Drill
from tests.crisis.app.web_session import csrf_of, log_in
from tests.crisis.lifecycle_support import add_contact
from tests.exercises.support import participants
from tests.support import FrozenClock, TestUser, make_user


async def _drill(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> tuple[TestUser, dict[str, object]]:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    async with db.transaction() as session:
        people = await participants(session, now=clock.now())
    body = {
        "title": "Test d'astreinte de nuit",
        "kind": "on_call",
        "participants": people,
        "starts_at": (clock.now() + timedelta(days=1)).isoformat(),
    }
    drill = (await client.post("/api/v1/exercises", json=body, headers=trainer.headers)).json()
    await log_in(client, trainer.login, trainer.password)
    return trainer, drill


async def _edit(
    client: httpx.AsyncClient, drill: dict[str, object], **fields: str
) -> httpx.Response:
    """The edit form sent with `fields` and the drill's own participants."""
    page = await client.get(f"/exercices/{drill['id']}/modifier")
    people = [str(p) for p in drill["participants"]]  # type: ignore[attr-defined]
    return await client.post(
        f"/exercices/{drill['id']}/modifier",
        data={"csrf_token": csrf_of(page.text), "participants": people, **fields},
    )


async def _stored(db: Database, drill_id: object) -> Drill | None:
    async with db.read() as session:
        return await session.get(Drill, drill_id)


async def test_the_edit_form_is_filled_in_and_saves_the_new_title_and_rule(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    _, drill = await _drill(client, db, clock)
    page = await client.get(f"/exercices/{drill['id']}/modifier")
    assert page.status_code == 200 and "Test d&#39;astreinte de nuit" in page.text
    assert "Enregistrer les modifications" in page.text and 'value="2026-11-29T15:00"' in page.text
    sent = await _edit(
        client, drill, title="Test d'astreinte mensuel", rrule="FREQ=MONTHLY;BYDAY=1TU;BYHOUR=3"
    )
    assert sent.status_code == 303, sent.text
    stored = await _stored(db, drill["id"])
    assert stored is not None and stored.title == "Test d'astreinte mensuel"
    assert stored.rrule == "FREQ=MONTHLY;BYDAY=1TU;BYHOUR=3" and stored.starts_at is None


async def test_a_past_instant_in_the_edit_form_is_refused_in_french_and_nothing_changes(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    _, drill = await _drill(client, db, clock)
    sent = await _edit(client, drill, title="Autre titre", starts_at="2026-11-01T10:00")
    assert sent.status_code == 422 and "La date de lancement est passée" in sent.text
    stored = await _stored(db, drill["id"])
    assert stored is not None and stored.title == "Test d'astreinte de nuit"


async def test_delete_asks_for_confirmation_then_removes_the_drill(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    _, drill = await _drill(client, db, clock)
    page = await client.get(f"/exercices/{drill['id']}")
    assert "Je confirme la suppression" in page.text
    unconfirmed = await client.post(
        f"/exercices/{drill['id']}/supprimer", data={"csrf_token": csrf_of(page.text)}
    )
    assert unconfirmed.status_code == 303 and await _stored(db, drill["id"]) is not None
    done = await client.post(
        f"/exercices/{drill['id']}/supprimer",
        data={"csrf_token": csrf_of(page.text), "confirm": "1"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/exercices"
    async with db.read() as session:
        assert (await session.exec(select(Drill))).all() == []


async def test_changing_the_participants_during_a_run_is_refused_on_the_form(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer, drill = await _drill(client, db, clock)
    launched = await client.post(f"/api/v1/exercises/{drill['id']}/launch", headers=trainer.headers)
    assert launched.status_code == 201, launched.text
    people = [str(p) for p in drill["participants"]]  # type: ignore[attr-defined]
    page = await client.get(f"/exercices/{drill['id']}/modifier")
    sent = await client.post(
        f"/exercices/{drill['id']}/modifier",
        data={
            "csrf_token": csrf_of(page.text),
            "participants": people[:1],
            "title": "Test d'astreinte de nuit",
            "starts_at": "2026-11-29T15:00",
        },
    )
    assert sent.status_code == 409 and "Une séance est en cours" in sent.text
    stored = await _stored(db, drill["id"])
    assert stored is not None and len(stored.participants) == 2
    renamed = await _edit(
        client, drill, title="Test renommé pendant la séance", starts_at="2026-11-29T15:00"
    )
    assert renamed.status_code == 303, renamed.text


async def test_a_reachability_tests_edit_form_leaves_its_officials_alone(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    trainer = await make_user(db, clock, "formatrice", "trainer")
    async with db.transaction() as session:
        mayor = await add_contact(session, name="Anne Maire", audience="officials", now=clock.now())
    body = {
        "title": "Joignabilité trimestrielle",
        "kind": "reachability",
        "participants": [mayor],
        "starts_at": (clock.now() + timedelta(days=1)).isoformat(),
    }
    drill = (await client.post("/api/v1/exercises", json=body, headers=trainer.headers)).json()
    await log_in(client, trainer.login, trainer.password)
    page = await client.get(f"/exercices/{drill['id']}/modifier")
    assert page.status_code == 200 and 'name="participants"' not in page.text
    sent = await client.post(
        f"/exercices/{drill['id']}/modifier",
        data={
            "csrf_token": csrf_of(page.text),
            "title": "Joignabilité de printemps",
            "starts_at": "2026-11-29T15:00",
        },
    )
    assert sent.status_code == 303, sent.text
    stored = await _stored(db, drill["id"])
    assert stored is not None and stored.participants == [mayor]
    assert stored.title == "Joignabilité de printemps"
