"""Exercise isolation extended to the CIP's roster: generated rosters (real and exercise people,
every CIP role and level, every channel), an exercise CIP ordered and escalated by the tick to
the last level, the outbox dispatched. No page ever reaches a real channel or a real person."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from contacts.roster import CIP_DUTY_ROLES
from crisis.app.db import Database
from crisis.cip import pager
from crisis.dispatch.outbox import Delivery
from crisis.vocabulary import CrisisMode
from tests.conftest import ON_POSTGRESQL, _empty_tables
from tests.crisis.cip.test_pager import RULES, ordered_cip
from tests.crisis.lifecycle_support import add_on_call
from tests.exercises.test_isolation import CHANNELS, _dispatch
from tests.support import FrozenClock

EXAMPLES = 10 if ON_POSTGRESQL else 25


@dataclass(frozen=True)
class OnCall:
    exercise: bool
    role: str
    level: int
    channel: int


on_calls = st.builds(
    OnCall,
    exercise=st.booleans(),
    role=st.sampled_from([*CIP_DUTY_ROLES, "communication"]),
    level=st.integers(1, 3),
    channel=st.integers(0, len(CHANNELS) - 1),
)


async def _scenario(url: str, crowd: list[OnCall]) -> None:
    db = Database.from_url(url)
    clock = FrozenClock()
    try:
        audience_of: dict[int, str] = {}
        async with db.transaction() as session:
            for index, person in enumerate(crowd):
                audience = "exercise" if person.exercise else "staff"
                cid = await add_on_call(
                    session,
                    name=f"Personne{index} Générée",
                    role=person.role,
                    level=person.level,
                    now=clock.now(),
                    audience=audience,
                    channel=CHANNELS[person.channel],
                )
                audience_of[cid] = audience
        crisis_id = await ordered_cip(db, clock.now(), mode=CrisisMode.EXERCISE)
        for _ in range(3):  # up to the last level
            clock.advance(minutes=RULES.page_escalation.total_seconds() / 60)
            async with db.transaction() as session:
                await pager.escalate(session, rules=RULES, now=clock.now())
        real_sent, exercise_sent = await _dispatch(db, clock)
        assert real_sent == []
        assert all(m.text.startswith("EXERCICE EXERCICE EXERCICE") for m in exercise_sent)
        async with db.read() as session:
            rows = (await session.exec(select(Delivery))).all()
            paged = await pager.pages(session, crisis_id=crisis_id)
        assert {d.audience for d in rows} <= {"exercise"}
        assert all(audience_of[d.contact_id] == "exercise" for d in rows if d.contact_id)
        assert all(audience_of[p.contact_id] == "exercise" for p in paged if p.contact_id)
        if any(p.exercise for p in crowd):
            assert paged  # some exercise participant is always paged
    finally:
        await _empty_tables(db)
        await db.dispose()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(crowd=st.lists(on_calls, min_size=0, max_size=8))
def test_an_exercise_cip_never_pages_a_real_person_or_through_a_real_channel(
    database_url: str, crowd: list[OnCall]
) -> None:
    asyncio.run(_scenario(database_url, crowd))
