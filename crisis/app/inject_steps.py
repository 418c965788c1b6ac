"""The service call behind each of a run's inject actions — release, mark done, pause,
resume — shared by the API (`crisis.app.api.exercise_injects`) and the pages
(`crisis.app.web.exercise_inject_pages`), which differ only in how they answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app.actions import Caller
from crisis.app.paths import RowId
from exercises import inject_play, inject_reactions
from exercises.inject_play import InjectPlay
from exercises.programme import DrillRun

__all__ = ["InjectVerb", "RunRef", "RunRefDep", "RunVerb", "inject_step", "run_step"]

InjectVerb = Literal["release", "done"]
RunVerb = Literal["pause", "resume"]


@dataclass(frozen=True, slots=True)
class RunRef:
    """A drill's run, as its routes' paths name it."""

    drill_id: int
    run_id: int


async def run_ref(drill_id: RowId, run_id: RowId) -> RunRef:
    return RunRef(drill_id, run_id)


RunRefDep = Annotated[RunRef, Depends(run_ref)]
_ON_INJECT = {"release": inject_play.release, "done": inject_reactions.mark_done}
_ON_RUN = {"pause": inject_reactions.pause, "resume": inject_reactions.resume}


def inject_step(
    caller: Caller, verb: InjectVerb, run: RunRef, inject_id: int
) -> Callable[[AsyncSession], Awaitable[InjectPlay]]:
    """One inject of a running run: released now, or its expected action marked done."""
    action = _ON_INJECT[verb]

    async def step(session: AsyncSession) -> InjectPlay:
        ids = {"drill_id": run.drill_id, "run_id": run.run_id, "inject_id": inject_id}
        return await action(session, **caller.acting, **ids)

    return step


def run_step(
    caller: Caller, verb: RunVerb, run: RunRef
) -> Callable[[AsyncSession], Awaitable[DrillRun]]:
    """A running run's injects, paused or resumed."""
    action = _ON_RUN[verb]

    async def step(session: AsyncSession) -> DrillRun:
        return await action(session, **caller.acting, drill_id=run.drill_id, run_id=run.run_id)

    return step
