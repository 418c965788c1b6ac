"""The demo's programme of drills: an on-call test due two minutes after start, a yearly
crisis exercise, a quarterly reachability test of a few mayors (awaiting the prefect's
approval), and a crisis exercise played this morning with its injects and finished (its page
and report).

Planned the first time the demo starts, kept afterwards (a drill titled as here exists).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from contacts.directory import Contact, ContactAudience
from crisis.actors import SYSTEM
from crisis.app import demo_injects
from crisis.app.db import Database
from crisis.app.library import playbook_library
from crisis.app.policies import launch_rules
from crisis.app.settings import Settings
from crisis.cell import lifecycle
from exercises import ending, launching, programme
from exercises.programme import Drill, DrillKind, DrillSpec

ON_CALL_TITLE = "Test d'astreinte mensuel (démonstration)"
YEARLY_TITLE = "Exercice annuel inondation (démonstration)"
PLAYED_TITLE = "Exercice crue de ce matin (démonstration)"
REACH_TITLE = "Joignabilité trimestrielle des maires (démonstration)"
COMMUNES = ["80001", "80021"]  # Abbeville, Amiens


async def _participants(db: Database) -> list[int]:
    async with db.read() as session:
        query = (
            select(Contact.id)
            .where(Contact.audience == ContactAudience.EXERCISE, col(Contact.active))
            .order_by(col(Contact.id))
            .limit(20)
        )
        return [cid for cid in (await session.exec(query)).all() if cid is not None]


async def _mayors(db: Database) -> list[int]:
    async with db.read() as session:
        query = (
            select(Contact.id)
            .where(
                Contact.audience == ContactAudience.OFFICIALS,
                Contact.function == "maire",
                col(Contact.area_code).in_(COMMUNES),
                col(Contact.active),
            )
            .order_by(col(Contact.id))
        )
        return [cid for cid in (await session.exec(query)).all() if cid is not None]


async def _specs(db: Database, *, now: datetime) -> list[DrillSpec]:
    """One drill of each kind, the crisis exercise played this morning last."""
    people = await _participants(db)
    specs = [
        DrillSpec(
            title=ON_CALL_TITLE,
            kind=DrillKind.ON_CALL,
            participants=people[:3],
            starts_at=now + timedelta(minutes=2),
        ),
        DrillSpec(
            title=YEARLY_TITLE,
            kind=DrillKind.CRISIS,
            playbook="crue",
            communes=COMMUNES,
            participants=people,
            rrule="FREQ=YEARLY;BYMONTH=3;BYDAY=1TU;BYHOUR=9",
        ),
        DrillSpec(
            title=PLAYED_TITLE,
            kind=DrillKind.CRISIS,
            playbook="crue",
            communes=COMMUNES,
            participants=people,
            starts_at=now + timedelta(days=365),
        ),
    ]
    mayors = await _mayors(db)
    if mayors:  # a directory without the two mayors: no reachability test to show
        reach = DrillSpec(
            title=REACH_TITLE,
            kind=DrillKind.REACHABILITY,
            participants=mayors,
            rrule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=10",
        )
        specs.insert(2, reach)
    return specs


async def plan_once(db: Database, settings: Settings, *, now: datetime) -> int | None:
    """The demo's drills; returns the on-call test's id (None when already planned)."""
    async with db.read() as session:
        found = (await session.exec(select(Drill.id).where(Drill.title == ON_CALL_TITLE))).first()
    if found is not None:
        return None
    library = playbook_library()
    rules = launch_rules(settings)
    specs = await _specs(db, now=now)
    async with db.transaction() as session:
        drills = [
            await programme.create(session, actor=SYSTEM, spec=s, playbooks=library, now=now)
            for s in specs
        ]
    played = drills[-1]
    assert played.id is not None
    async with db.transaction() as session:
        start = now - timedelta(hours=3)
        inject_ids = await demo_injects.add_scenario(session, drill_id=played.id, now=start)
        run = await launching.launch_now(
            session, actor=SYSTEM, drill_id=played.id, rules=rules, now=start
        )
        played.next_run_at = None  # played by hand this morning: nothing left to schedule
        session.add(played)
    assert run.crisis_id is not None
    await demo_injects.play(db, run=run, inject_ids=inject_ids)
    ended_at = now - timedelta(hours=2)
    async with db.transaction() as session:
        await lifecycle.close(session, actor=SYSTEM, crisis_id=run.crisis_id, now=ended_at)
        await ending.end_finished(session, rules=rules, now=ended_at)
    return drills[0].id
