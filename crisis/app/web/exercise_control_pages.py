"""The trainer's live control view of a running drill (issue 19, item 8): the exercise
crisis' clocks, the injects to release, who answered, STOP EXERCICE. Its body is a live
region of the exercise crisis' topic: it is fetched again when the clocks, the status or the
journal move (an inject played, an answer recorded, a pause), as the crisis page's are."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from crisis.actors import Actor, Role
from crisis.app.auth import ClockDep, CurrentActor, DbDep
from crisis.app.db import Database
from crisis.app.exercise_report_view import shown
from crisis.app.inject_steps import RunRefDep
from crisis.app.web import live_stream
from crisis.app.web.templating import render
from exercises import control

router = APIRouter(include_in_schema=False)


def control_path(drill_id: int, run_id: int) -> str:
    return f"/exercices/{drill_id}/seances/{run_id}/pilotage"


async def _control(
    db: Database, actor: Actor, drill_id: int, run_id: int, now: datetime
) -> dict[str, Any]:
    async with db.read() as session:
        found = await control.of_run(
            session, actor=actor, drill_id=drill_id, run_id=run_id, now=now
        )
    return {
        "drill": shown(found.drill),
        "run": shown(found.run),
        "crisis": found.crisis,
        "clock_states": found.clocks,
        "injects": [shown(i) for i in found.injects],
        "pending": len(found.pending),
        "answers": [shown(a) for a in found.answers],
        "silent": len(found.silent),
        "by_role": [shown(f) for f in found.by_role],
        "paused_at": found.injects_paused_at,
        "running": found.running,
        "can_play": Role.TRAINER in actor.roles,
        "now": now,
    }


@router.get("/exercices/{drill_id}/seances/{run_id}/pilotage")
@router.get("/fragments/exercices/{drill_id}/seances/{run_id}/pilotage")
async def control_view(
    run: RunRefDep, request: Request, actor: CurrentActor, db: DbDep, clock: ClockDep
) -> HTMLResponse:
    """The page, or (under `/fragments`) its live body, shared by the viewers of a version."""
    path = control_path(run.drill_id, run.run_id)
    if not request.url.path.startswith("/fragments/"):
        seen = await _control(db, actor, run.drill_id, run.run_id, clock.now())
        return render(request, "exercises/control.html", path=path, exercise=True, **seen)
    async with db.read() as session:  # the reader's role checked before any shared render
        crisis_id = await control.crisis_of(
            session, actor=actor, drill_id=run.drill_id, run_id=run.run_id
        )

    async def fresh() -> HTMLResponse:
        seen = await _control(db, actor, run.drill_id, run.run_id, clock.now())
        return render(request, "exercises/control_body.html", path=path, **seen)

    visibility = (Role.TRAINER in actor.roles,)
    return await live_stream.shared_fragment(request, f"evenement:{crisis_id}", visibility, fresh)
