"""ES48 shows its targets from the COD on (issue 18 item 4): the officials and media the
directory targets for the crisis' communes, before any delivery (« Élus 0 / 4 »)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crisis.app.db import Database
from crisis.cell import crises, overview
from crisis.cell.clocks import ClockCode
from crisis.vocabulary import CrisisMode
from tests.crisis import bulletin_support as support
from tests.crisis.lifecycle_support import cod_crisis

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


async def _es48(db: Database, mode: CrisisMode) -> dict[str, dict[str, object]]:
    await support.load_directory(db, T0)
    async with db.transaction() as session:
        crisis_id = await cod_crisis(session, now=T0, mode=mode)
    async with db.read() as session:
        crisis = await crises.get(session, crisis_id=crisis_id)
        states = await overview.clock_states(
            session, crises=[crisis], now=T0 + timedelta(minutes=5)
        )
    (es48,) = [s for s in states[crisis_id] if s.code == ClockCode.ES48]
    assert es48.coverage is not None
    return dict(es48.coverage)


async def test_right_after_the_cod_the_coverage_counts_the_officials_and_media_of_the_directory(
    db: Database,
) -> None:
    found = await _es48(db, CrisisMode.REAL)
    # Abbeville (80001): mayor, adjoint, a mayor without channel; Amiens (80021): its mayor.
    # One newsroom for the département; staff are not an ES48 audience.
    assert found["officials"] == {
        "covered_at": None,
        "reached": 0,
        "total": 4,
        "missing": [],
        "missing_count": 4,
    }
    assert (found["media"]["reached"], found["media"]["total"]) == (0, 1)


async def test_in_an_exercise_the_players_are_shared_between_the_audiences_they_play(
    db: Database,
) -> None:
    found = await _es48(db, CrisisMode.EXERCISE)
    totals = {a: found[a]["total"] for a in ("officials", "media")}
    assert totals == {"officials": 2, "media": 1}
