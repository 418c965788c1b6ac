from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contacts.demo import load_demo_directory
from contacts.roster import Gap, Span, coverage_gaps, on_duty, roster_gaps, uncovered_hours
from crisis.app.db import Database
from tests.support import FrozenClock

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_gaps_are_the_uncovered_stretches_of_each_required_role() -> None:
    spans = [
        Span("prefect", 1, _at(0), _at(10)),
        Span("prefect", 2, _at(8), _at(12)),
        Span("prefect", 1, _at(14), _at(30)),
        Span("validator", 1, _at(-5), _at(30)),
    ]
    gaps = coverage_gaps(spans, start=_at(0), end=_at(24), roles=["prefect", "validator"])
    assert gaps == [Gap("prefect", _at(12), _at(14))]
    assert gaps[0].hours == 2


def test_a_role_nobody_holds_is_one_gap_over_the_whole_window() -> None:
    gaps = coverage_gaps([], start=_at(0), end=_at(24), roles=["communication"])
    assert gaps == [Gap("communication", _at(0), _at(24))]
    assert uncovered_hours(gaps) == 24


def test_uncovered_hours_counts_each_started_clock_hour_once() -> None:
    gaps = [Gap("prefect", _at(1.5), _at(2.25)), Gap("validator", _at(2), _at(3))]
    assert uncovered_hours(gaps) == 2


async def test_the_demo_roster_covers_everything_but_one_visible_gap(
    db: Database, clock: FrozenClock
) -> None:
    async with db.transaction() as session:
        await load_demo_directory(session, now=clock.now())
    async with db.read() as session:
        gaps = await roster_gaps(session, now=clock.now())
        duty = await on_duty(session, at=clock.now())
    assert [(g.role, g.hours) for g in gaps] == [("validator", 6.0)]
    assert {(s.role, s.level) for s in duty} == {
        (r, lvl) for r in ("communication", "validator", "prefect") for lvl in (1, 2)
    }
