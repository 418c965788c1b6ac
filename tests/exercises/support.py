"""Helpers for the drill suites: a trainer, exercise participants, planned drills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor, Role
from crisis.app.db import Database
from crisis.app.factory import create_app
from crisis.app.library import playbook_library
from crisis.app.settings import Settings
from exercises import ending, programme
from exercises.launching import LaunchRules
from exercises.programme import Drill, DrillKind, DrillRun, DrillSpec
from tests.conftest import _empty_tables
from tests.crisis.lifecycle_support import RULES, add_contact, roster
from tests.support import FrozenClock, TestUser, make_user

TRAINER = Actor(5, "formatrice", frozenset({Role.TRAINER}))
PREFECT = Actor(1, "prefet", frozenset({Role.PREFECT}))
LAUNCH = LaunchRules(
    lifecycle=RULES, playbooks=playbook_library(), feedback_secret="feedback-secret-of-the-tests"
)


def crisis_drill_body(people: list[int]) -> dict[str, object]:
    """The API's body of a yearly crisis drill (flood playbook) for `people`."""
    return {
        "title": "Exercice crue annuel",
        "kind": "crisis",
        "playbook": "crue",
        "communes": ["80021"],
        "participants": people,
        "rrule": "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15;BYHOUR=10",
    }


async def participants(session: AsyncSession, *, now: datetime, count: int = 2) -> list[int]:
    return [
        await add_contact(session, name=f"Joueur{i} Exercice", audience="exercise", now=now)
        for i in range(count)
    ]


async def plan(
    session: AsyncSession,
    *,
    now: datetime,
    kind: DrillKind = DrillKind.CRISIS,
    people: list[int] | None = None,
    **schedule: object,
) -> Drill:
    if people is None:
        people = await participants(session, now=now)
    spec = DrillSpec(
        title="Exercice crue de printemps",
        kind=kind,
        playbook="crue" if kind == DrillKind.CRISIS else None,
        communes=["80021"] if kind == DrillKind.CRISIS else [],
        participants=people,
        **schedule,  # type: ignore[arg-type]
    )
    return await programme.create(
        session, actor=TRAINER, spec=spec, playbooks=playbook_library(), now=now
    )


async def stop(
    db: Database, run: DrillRun, *, actor: Actor = TRAINER, reason: str, now: datetime
) -> DrillRun:
    """STOP EXERCICE on `run`, in its own transaction."""
    assert run.id is not None
    async with db.transaction() as session:
        return await ending.stop(
            session,
            actor=actor,
            drill_id=run.drill_id,
            run_id=run.id,
            reason=reason,
            rules=LAUNCH,
            now=now,
        )


async def refused_plan_request(
    url: str, settings_: Settings, extra: dict[str, object], *, kind: str = "on_call"
) -> None:
    """POST /api/v1/exercises of a `kind` drill with the `extra` fields: 422, no drill written
    (a reachability test names one real mayor)."""
    db = Database.from_url(url)
    clock = FrozenClock()
    try:
        trainer = await make_user(db, clock, "formatrice", "trainer")
        body: dict[str, object] = {
            "title": "Test programmé",
            "kind": kind,
            "starts_at": (clock.now() + timedelta(days=1)).isoformat(),
        }
        if kind == "reachability":
            async with db.transaction() as session:
                mayor = await add_contact(
                    session, name="Anne Maire", audience="officials", now=clock.now()
                )
            body["participants"] = [mayor]
        app = create_app(settings_, clock=clock, database=db)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://tocsin.test"
        ) as client:
            answer = await client.post(
                "/api/v1/exercises", json=body | extra, headers=trainer.headers
            )
        assert answer.status_code == 422, answer.text
        async with db.read() as session:
            assert (await session.exec(select(Drill))).all() == []
    finally:
        await _empty_tables(db)
        await db.dispose()


@dataclass(frozen=True, slots=True)
class OnCallLaunched:
    trainer: TestUser
    prefect: TestUser
    people: dict[str, int]  # the roster, by name
    drill_id: int
    run_id: int
    crisis_id: int


async def launched_on_call(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> OnCallLaunched:
    """An on-call test planned by a trainer over the test roster, launched now by the API."""
    trainer = await make_user(db, clock, "formatrice", "trainer")
    prefect = await make_user(db, clock, "prefet", "prefect")
    async with db.transaction() as session:
        people = await roster(session, now=clock.now())
    body = {
        "title": "Test d'astreinte de nuit",
        "kind": "on_call",
        "starts_at": (clock.now() + timedelta(days=1)).isoformat(),
    }
    drill = (await client.post("/api/v1/exercises", json=body, headers=trainer.headers)).json()
    launched = await client.post(f"/api/v1/exercises/{drill['id']}/launch", headers=trainer.headers)
    assert launched.status_code == 201, launched.text
    run = launched.json()
    return OnCallLaunched(trainer, prefect, people, drill["id"], run["run_id"], run["crisis_id"])
