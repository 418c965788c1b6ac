"""Are drills held as often as ES49 asks? Per kind: the last run, the next one, overdue or not.

Cadence targets (days) default to a crisis exercise a year, an on-call test a month and a
reachability test a quarter; the service's settings may change them. A kind is overdue when
no run was launched within its cadence (missed runs do not count).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from exercises.programme import KIND_LABELS, Drill, DrillKind, DrillRun, RunStatus

__all__ = ["DEFAULT_CADENCE_DAYS", "KindStatus", "status"]

DEFAULT_CADENCE_DAYS: dict[str, int] = {
    DrillKind.CRISIS: 365,
    DrillKind.ON_CALL: 31,
    DrillKind.REACHABILITY: 92,
}
SHOWN_KINDS = (DrillKind.CRISIS, DrillKind.ON_CALL)  # reachability tests: not built yet


@dataclass(frozen=True, slots=True)
class KindStatus:
    kind: str
    cadence_days: int
    last_run_at: datetime | None
    next_run_at: datetime | None
    overdue: bool

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def view(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "label": self.label,
            "cadence_days": self.cadence_days,
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
            "next_run_at": self.next_run_at.isoformat() if self.next_run_at else None,
            "overdue": self.overdue,
        }


async def status(
    session: AsyncSession, *, now: datetime, cadence_days: Mapping[str, int] | None = None
) -> list[KindStatus]:
    cadence = DEFAULT_CADENCE_DAYS | dict(cadence_days or {})
    held = (
        select(Drill.kind, sa.func.max(DrillRun.launched_at))
        .join(Drill, col(Drill.id) == DrillRun.drill_id)
        .where(
            col(DrillRun.status).not_in([RunStatus.MISSED, RunStatus.AWAITING, RunStatus.CANCELLED])
        )
        .group_by(col(Drill.kind))
    )
    coming = (
        select(Drill.kind, sa.func.min(Drill.next_run_at))
        .where(col(Drill.next_run_at).is_not(None))
        .group_by(col(Drill.kind))
    )
    last = dict((await session.exec(held)).all())
    upcoming = dict((await session.exec(coming)).all())
    found = []
    for kind in SHOWN_KINDS:
        days = cadence[kind]
        last_at = last.get(kind)
        overdue = last_at is None or now - last_at > timedelta(days=days)
        found.append(KindStatus(kind.value, days, last_at, upcoming.get(kind), overdue))
    return found
