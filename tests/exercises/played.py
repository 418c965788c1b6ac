"""A `crisis` drill played through the API: launched at 15 h 00 (Paris), its two players
paged as communication officers answer at 15 h 08 and 15 h 12, the cell is declared
operational at 15 h 28 (ES47 met in 28 min), the COD activated at 15 h 23 (ES48 running),
then bulletin deliveries to the officials and the media it plays; the report is read at
16 h 30 (ES48 overdue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from crisis.app.db import Database
from tests.crisis.lifecycle_support import delivery, roster
from tests.exercises.support import participants
from tests.support import FrozenClock, TestUser, make_user


@dataclass(frozen=True, slots=True)
class Played:
    drill_id: int
    run_id: int
    crisis_id: int
    trainer: TestUser
    prefect: TestUser

    @property
    def report_path(self) -> str:
        return f"/exercices/{self.drill_id}/seances/{self.run_id}"


async def _deliveries(db: Database, crisis_id: int, at: datetime) -> None:
    """Officials: three bulletins (first delivered at 15 h 35, one acknowledged, one failed);
    media: one delivered at 15 h 50."""
    rows = [
        ("officials", "confirmed", 35, 40),
        ("officials", "sent", 36, None),
        ("officials", "failed", None, None),
        ("media", "sent", 50, None),
    ]
    async with db.transaction() as session:
        for played, status, sent, confirmed in rows:
            await delivery(
                session,
                crisis_id=crisis_id,
                audience="exercise",
                played_audience=played,
                status=status,
                created_at=at + timedelta(minutes=30),
                sent_at=at + timedelta(minutes=sent) if sent is not None else None,
                confirmed_at=at + timedelta(minutes=confirmed) if confirmed else None,
            )


async def play(client: httpx.AsyncClient, db: Database, clock: FrozenClock) -> Played:
    launched_at = clock.now()
    trainer = await make_user(db, clock, "formatrice", "trainer")
    prefect = await make_user(db, clock, "prefet", "prefect")
    com = await make_user(db, clock, "com", "communicator")
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
        players = await participants(session, now=clock.now())
    body = {
        "title": "Exercice crue annuel",
        "kind": "crisis",
        "playbook": "crue",
        "communes": ["80021"],
        "participants": players,
        "starts_at": (launched_at + timedelta(days=1)).isoformat(),
    }
    drill = await client.post("/api/v1/exercises", json=body, headers=trainer.headers)
    assert drill.status_code == 201, drill.text
    drill_id = drill.json()["id"]
    run = await client.post(f"/api/v1/exercises/{drill_id}/launch", headers=trainer.headers)
    assert run.status_code == 201, run.text
    crisis_id = run.json()["crisis_id"]
    answers = (
        (8, players[0], "communication"),
        (0, people["Valérie Val1"], "validator"),
        (4, players[1], "communication"),
    )
    for minutes, contact, role in answers:
        clock.advance(minutes=minutes)
        answer = await client.post(
            f"/api/v1/crises/{crisis_id}/cell/acknowledgements",
            json={"contact": contact, "role": role},
            headers=prefect.headers,
        )
        assert answer.status_code == 201, answer.text
    clock.advance(minutes=16)
    operational = await client.post(
        f"/api/v1/crises/{crisis_id}/cell/operational", headers=com.headers
    )
    assert operational.status_code == 200, operational.text
    cod = {
        "activated_at": (clock.now() - timedelta(minutes=5)).isoformat(),
        "synergi_ref": "SYN-80-2026-0042",
        "decided_by": "Mme la préfète",
    }
    answer = await client.post(f"/api/v1/crises/{crisis_id}/cod", json=cod, headers=prefect.headers)
    assert answer.status_code == 200, answer.text
    cip = await client.post(
        f"/api/v1/crises/{crisis_id}/cip",
        json={"number": "0 800 10 02 00"},
        headers=prefect.headers,
    )
    assert cip.status_code in (200, 201), cip.text
    await _deliveries(db, crisis_id, launched_at)
    clock.advance(minutes=62)
    return Played(drill_id, run.json()["run_id"], crisis_id, trainer, prefect)
