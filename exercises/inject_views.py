"""The injects as the drill page, the API and the report show them (plain dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from exercises import injects
from exercises.inject_play import due_at, plays_of
from exercises.inject_reactions import play_view
from exercises.messages import active_participants
from exercises.programme import Drill, DrillRun, RunStatus, get

__all__ = ["of_drill", "of_run", "one"]


async def of_drill(session: AsyncSession, drill: Drill) -> list[dict[str, Any]]:
    """The drill's scenario, in order."""
    assert drill.id is not None
    names = dict(await active_participants(session, drill.participants))
    return [injects.view(i, names) for i in await injects.of_drill(session, drill_id=drill.id)]


async def one(session: AsyncSession, inject: injects.Inject) -> dict[str, Any]:
    """One inject, its named participant by name."""
    drill = await get(session, drill_id=inject.drill_id)
    return injects.view(inject, dict(await active_participants(session, drill.participants)))


def _unplayed(view: dict[str, Any], run: DrillRun, inject: injects.Inject) -> dict[str, Any]:
    running = run.status == RunStatus.RUNNING
    due = due_at(run, inject) if running else None
    return {
        "inject_id": view["id"],
        "offset_min": view["offset_min"],
        "target": view["target_label"],
        "text": view["text"],
        "expected_action": view["expected_action"],
        "deadline_min": view["deadline_min"],
        "played_at": None,
        "released_by": None,
        "deliveries": 0,
        "deadline": None,
        "done_at": None,
        "done_by": None,
        "due_at": due.isoformat() if due else None,
        "reaction": "upcoming" if running else "not_played",
        "reaction_label": "À venir" if running else "Non joué",
    }


async def of_run(
    session: AsyncSession, drill: Drill, run: DrillRun, *, now: datetime
) -> list[dict[str, Any]]:
    """The run's injects: those played (what was sent, when, the reaction), then those not
    played yet (still to come while the run goes), in the scenario's order."""
    assert drill.id is not None and run.id is not None
    running = run.status == RunStatus.RUNNING
    plays = {p.inject_id: p for p in await plays_of(session, run_id=run.id)}
    names = dict(await active_participants(session, drill.participants))
    lines = [
        play_view(p, now=now, running=running) | {"due_at": None}
        for p in sorted(plays.values(), key=lambda p: (p.played_at, p.offset_min))
    ]
    for inject in await injects.of_drill(session, drill_id=drill.id):
        if inject.id not in plays:
            lines.append(_unplayed(injects.view(inject, names), run, inject))
    return lines
