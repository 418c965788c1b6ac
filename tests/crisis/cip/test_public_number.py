"""The public pages may show the CIP's number while it is open, and only then."""

from __future__ import annotations

from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.cip import ordering, staffing
from crisis.cip.public import open_cip_number
from crisis.cip.rules import CipRules
from tests.crisis.lifecycle_support import PREFECT, new_crisis
from tests.support import FrozenClock, make_user

RULES = CipRules(min_staffing={"head": 1})


async def test_the_number_is_public_from_the_opening_to_the_close_only(
    db: Database, clock: FrozenClock
) -> None:
    head = await make_user(db, clock, "cheffe", "operator")
    async with db.transaction() as session:
        crisis = await new_crisis(session, now=clock.now())
        assert crisis.id is not None
        cid = crisis.id
        assert await open_cip_number(session, cid) is None
        await ordering.order(
            session,
            actor=PREFECT,
            crisis_id=cid,
            number="0800100200",
            decided_by=None,
            expected_opening_at=None,
            rules=RULES,
            now=clock.now(),
        )
        assert await open_cip_number(session, cid) is None  # ordered, not open yet
        await staffing.check_in(
            session, actor=SYSTEM, crisis_id=cid, role="head", user_id=head.id, now=clock.now()
        )
        await ordering.declare_open(
            session, actor=SYSTEM, crisis_id=cid, rules=RULES, now=clock.now()
        )
        assert await open_cip_number(session, cid) == "0 800 10 02 00"
        await ordering.close(session, actor=PREFECT, crisis_id=cid, now=clock.now())
        assert await open_cip_number(session, cid) is None
