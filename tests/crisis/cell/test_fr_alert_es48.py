"""ES48's clock is met by an FR-Alert broadcast when it is what informs the public."""

from __future__ import annotations

from datetime import timedelta

from crisis import journal
from crisis.app.db import Database
from crisis.app.settings import Settings
from crisis.app.ticks import clock_tick
from crisis.cell import clocks, fr_alert
from crisis.cell.clocks import ClockCode
from tests.crisis.lifecycle_support import PREFECT, cod_crisis, delivery
from tests.support import FrozenClock


async def test_the_es48_clock_is_met_at_the_fr_alert_broadcast_time(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    cod = clock.now()
    async with db.transaction() as session:
        crisis_id = await cod_crisis(session, now=cod)
        for contact_id, audience in ((1, "officials"), (2, "media")):
            await delivery(
                session,
                crisis_id=crisis_id,
                audience=audience,
                contact_id=contact_id,
                name=f"Contact {contact_id}",
                status="sent",
                created_at=cod + timedelta(minutes=5),
                sent_at=cod + timedelta(minutes=6),
            )
    clock.advance(minutes=20)
    await clock_tick(db, settings)(clock.now())
    async with db.read() as session:
        running = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES48)
    assert running is not None and running.met_at is None  # the public not informed yet
    broadcast_at = cod + timedelta(minutes=18)
    async with db.transaction() as session:
        await journal.append(
            session,
            actor=PREFECT,
            action=fr_alert.ACTION,
            now=clock.now(),
            crisis_id=crisis_id,
            payload={
                "bulletin_id": 1,
                "reference": "FRA-1",
                "broadcast_at": broadcast_at.isoformat(),
            },
        )
    clock.advance(minutes=1)
    await clock_tick(db, settings)(clock.now())
    async with db.read() as session:
        es48 = await clocks.find(session, crisis_id=crisis_id, code=ClockCode.ES48)
    assert es48 is not None and es48.met_at == broadcast_at
