"""The trainer's notes on a run (RETEX): a short text written to the run's crisis journal, so
that no table changes and every version stays on record; the report shows the latest."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor
from crisis.errors import InvalidInput, NotFound
from crisis.journal import JournalEntry
from exercises.programme import TRAINERS, DrillRun

__all__ = ["ACTION", "MAX_LENGTH", "latest", "save"]

ACTION = "exercise.notes"
MAX_LENGTH = 4000


async def _run(session: AsyncSession, drill_id: int, run_id: int) -> DrillRun:
    run = await session.get(DrillRun, run_id)
    if run is None or run.drill_id != drill_id:
        raise NotFound("run_not_found", f"Aucune séance n° {run_id} pour cet exercice.")
    return run


async def save(
    session: AsyncSession, *, actor: Actor, drill_id: int, run_id: int, text: str, now: datetime
) -> None:
    actor.require(*TRAINERS, action="noter le bilan d'un exercice")
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise InvalidInput("notes_too_long", f"Les notes tiennent en {MAX_LENGTH} caractères.")
    run = await _run(session, drill_id, run_id)
    if run.crisis_id is None:
        raise InvalidInput("run_not_launched", "Cette séance n'a pas été lancée : rien à noter.")
    await journal.append(
        session,
        actor=actor,
        action=ACTION,
        now=now,
        crisis_id=run.crisis_id,
        payload={"drill_id": drill_id, "run_id": run_id, "text": text},
    )


async def latest(session: AsyncSession, *, crisis_id: int) -> dict[str, Any] | None:
    """The latest notes of the run whose crisis is `crisis_id` (None: never written)."""
    query = (
        select(JournalEntry)
        .where(JournalEntry.crisis_id == crisis_id, JournalEntry.action == ACTION)
        .order_by(col(JournalEntry.id).desc())
        .limit(1)
    )
    entry = (await session.exec(query)).first()
    if entry is None:
        return None
    return {
        "text": json.loads(entry.payload)["text"],
        "written_at": entry.at.isoformat(),
        "written_by": entry.actor,
    }
