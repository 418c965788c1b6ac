"""The trainer's live control view of a run (issue 19, item 8): the exercise crisis' clocks,
the injects with their state, who was paged and who answered. Trainers and the prefect only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.actors import Actor
from crisis.cell import crises, overview
from crisis.cell.clocks import ClockState
from crisis.cell.crises import Crisis
from crisis.errors import NotFound
from exercises import inject_views, results
from exercises.programme import READERS, Drill, DrillRun, RunStatus, get
from exercises.views import drill_view, run_view

__all__ = ["Control", "crisis_of", "of_run"]


@dataclass(frozen=True, slots=True)
class Control:
    drill: dict[str, Any]
    run: dict[str, Any]
    crisis: Crisis
    clocks: list[ClockState]
    injects: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    by_role: list[dict[str, Any]]
    injects_paused_at: datetime | None

    @property
    def running(self) -> bool:
        return bool(self.run["status"] == RunStatus.RUNNING)

    @property
    def silent(self) -> list[dict[str, Any]]:
        """The people paged who have not answered yet."""
        return [a for a in self.answers if a["answered_at"] is None]

    @property
    def pending(self) -> list[dict[str, Any]]:
        """The injects still to play (the trainer may release them now)."""
        return [i for i in self.injects if i["played_at"] is None]


async def _run(session: AsyncSession, drill: Drill, run_id: int) -> DrillRun:
    query = select(DrillRun).where(DrillRun.id == run_id, DrillRun.drill_id == drill.id)
    found = (await session.exec(query)).first()
    if found is None:
        raise NotFound("run_not_found", f"Aucune séance n° {run_id} pour cet exercice.")
    if found.crisis_id is None:
        raise NotFound(
            "run_without_crisis",
            "Cette séance n'a pas d'événement d'exercice à piloter (test de joignabilité, "
            "ou séance jamais lancée).",
        )
    return found


async def crisis_of(session: AsyncSession, *, actor: Actor, drill_id: int, run_id: int) -> int:
    """The run's exercise crisis (the live view's topic), for a trainer or the prefect only."""
    actor.require(*READERS, action="piloter un exercice")
    run = await _run(session, await get(session, drill_id=drill_id), run_id)
    assert run.crisis_id is not None
    return run.crisis_id


async def of_run(
    session: AsyncSession, *, actor: Actor, drill_id: int, run_id: int, now: datetime
) -> Control:
    """What the trainer watches while the run goes (and what it came to once it ended)."""
    actor.require(*READERS, action="piloter un exercice")
    drill = await get(session, drill_id=drill_id)
    run = await _run(session, drill, run_id)
    assert run.crisis_id is not None
    crisis = await crises.get(session, crisis_id=run.crisis_id)
    states = await overview.clock_states(session, crises=[crisis], now=now)
    lines = await results.answers(session, crisis_id=run.crisis_id)
    lines.sort(key=lambda a: (a.answered_at is not None, a.duty_role, a.level, a.name))
    return Control(
        drill=drill_view(drill, [run]),
        run=run_view(run),
        crisis=crisis,
        clocks=states.get(run.crisis_id, []),
        injects=await inject_views.of_run(session, drill, run, now=now),
        answers=[line.view() for line in lines],
        by_role=[f.view() for f in results.by_role(lines)],
        injects_paused_at=run.injects_paused_at,
    )
