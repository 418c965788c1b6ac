from __future__ import annotations

from datetime import timedelta

import httpx

from contacts.roster import REQUIRED_ROLES
from crisis import directory
from crisis.actors import SYSTEM
from crisis.app.db import Database
from crisis.app.web.shared_pages import STALE_FOR
from tests.crisis.app.web_session import log_in
from tests.support import FrozenClock, make_user


async def _cover(db: Database, clock: FrozenClock, *, days: int, gap_hours: int = 0) -> None:
    on_duty = await make_user(db, clock, f"permanence{gap_hours}", "communicator")
    async with db.transaction() as session:
        for role in REQUIRED_ROLES:
            starts = clock.now() + timedelta(hours=gap_hours if role == "validator" else 0)
            await directory.add_shift(
                session, actor=SYSTEM, now=clock.now(), role=role, level=1, starts_at=starts,
                ends_at=clock.now() + timedelta(days=days), user_id=on_duty.id,
            )  # fmt: skip


async def test_the_dashboard_warns_while_the_roster_leaves_hours_uncovered(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, user.login, user.password)
    assert "720 heures sans personne de permanence" in (await client.get("/")).text
    await _cover(db, clock, days=31, gap_hours=3)
    clock.advance(seconds=STALE_FOR + 0.01)  # someone else's change: past the page's copy
    page = (await client.get("/")).text
    assert "3 heures sans personne de permanence" in page and "Astreinte incomplète" in page


async def test_the_dashboard_is_quiet_when_every_hour_is_covered(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    user = await make_user(db, clock, "prefet", "prefect")
    await log_in(client, user.login, user.password)
    await _cover(db, clock, days=31)
    clock.advance(seconds=STALE_FOR + 0.01)  # someone else's change: past the page's copy
    assert "Astreinte incomplète" not in (await client.get("/")).text
