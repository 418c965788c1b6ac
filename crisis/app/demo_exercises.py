"""The demo's programme of drills: an on-call test due two minutes after start, a yearly
crisis exercise, and a crisis exercise played this morning and finished (its page and report).

Planned the first time the demo starts, kept afterwards (a drill titled as here exists).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from contacts.directory import Contact, ContactAudience
from crisis.actors import SYSTEM
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


async def plan_once(db: Database, settings: Settings, *, now: datetime) -> int | None:
    """The demo's drills; returns the on-call test's id (None when already planned)."""
    async with db.read() as session:
        found = (await session.exec(select(Drill.id).where(Drill.title == ON_CALL_TITLE))).first()
    if found is not None:
        return None
    people = await _participants(db)
    library = playbook_library()
    rules = launch_rules(settings)
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
    async with db.transaction() as session:
        drills = [
            await programme.create(session, actor=SYSTEM, spec=s, playbooks=library, now=now)
            for s in specs
        ]
    played = drills[-1]
    assert played.id is not None
    async with db.transaction() as session:
        run = await launching.launch_now(
            session, actor=SYSTEM, drill_id=played.id, rules=rules, now=now - timedelta(hours=3)
        )
        played.next_run_at = None  # played by hand this morning: nothing left to schedule
        session.add(played)
    assert run.crisis_id is not None
    ended_at = now - timedelta(hours=2)
    async with db.transaction() as session:
        await lifecycle.close(session, actor=SYSTEM, crisis_id=run.crisis_id, now=ended_at)
        await ending.end_finished(session, rules=rules, now=ended_at)
    return drills[0].id
