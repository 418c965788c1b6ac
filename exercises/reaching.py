"""A reachability test's run: no crisis, the fixed test to the drill's officials
(`exercises.reachability`), refused before any write without the prefect's approval or when an
official was reached inside the window."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from exercises import reachability
from exercises.programme import Drill, DrillRun, RunStatus, journal_launch

__all__ = ["launch"]


async def launch(
    session: AsyncSession,
    drill: Drill,
    *,
    actor: Actor,
    occurrence: datetime | None,
    late: bool,
    window: timedelta,
    now: datetime,
    into: DrillRun | None = None,
) -> DrillRun:
    """A reachability run: no crisis, the fixed test to the officials (refused before any
    write without the prefect's approval or inside the window); `into`: the run awaiting the
    trainer's confirmation, launched now."""
    assert drill.id is not None
    reached = await reachability.send(
        session,
        actor=actor,
        approved_by=drill.approved_by,
        officials=drill.participants,
        now=now,
        window=window,
    )
    run = into or DrillRun(
        drill_id=drill.id,
        occurrence_at=occurrence,
        status=RunStatus.RUNNING,
        launched_by=actor.login,
    )
    run.status, run.launched_at, run.late = RunStatus.RUNNING, now, late
    run.launched_by = actor.login
    run.reach_messages = sorted(reached.messages.values())
    session.add(run)
    await session.flush()
    await journal_launch(
        session, actor=actor, drill=drill, run=run, now=now, deliveries=reached.deliveries
    )
    return run
