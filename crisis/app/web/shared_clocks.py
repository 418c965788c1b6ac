"""A crisis' clock states (ES48's coverage with them) computed once per change for everyone.

The dashboard, the crisis page, its panel fragment and the live stream's figures all show the
same clocks, whoever looks: one computation of a crisis' states serves every page and stream
of the process while it is current, as `shared_pages` does for whole pages —

- the journal's last entry is the same (a journaled action, in any process, shows at once);
- no write transaction committed in this process since (`crisis.app.live.JournalSignal`'s
  generation: a delivery recorded here, a session touched);
- it is at most `MAX_AGE` old by the app's clock (what moves in other processes without a
  journal entry: the worker's sends, the time that makes a clock late).

Pages get the first `coverage.MISSING_SHOWN` names ES48 still waits for; the states are the
viewer-independent ones (`clocks.seen_by` applies `crisis.privacy` to each viewer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI

from crisis.app.db import Database
from crisis.app.live import JournalSignal
from crisis.app.web.shared_pages import MAX_AGE, journal_head
from crisis.cell import crises, overview
from crisis.cell.clocks import ClockState
from crisis.cell.crises import Crisis

States = list[ClockState]
KEPT = 200
"""Past that many crises kept, the stale ones go."""


@dataclass(slots=True)
class _Computed:
    version: tuple[int, int]
    at: datetime
    task: asyncio.Task[States]

    def current(self, version: tuple[int, int], now: datetime, max_age: timedelta) -> bool:
        if self.version != version or not timedelta(0) <= now - self.at <= max_age:
            return False
        done = self.task.done()
        return not (done and (self.task.cancelled() or self.task.exception() is not None))


class SharedClocks:
    def __init__(self, db: Database, signal: JournalSignal, *, max_age: float = MAX_AGE) -> None:
        self._db, self._signal = db, signal
        self.max_age = timedelta(seconds=max_age)
        self._kept: dict[int, _Computed] = {}
        self.computations = 0

    async def states(self, of: Sequence[Crisis], now: datetime) -> dict[int, States]:
        """Each crisis' clock states, as `overview.clock_states` gives them to pages."""
        wanted = [c for c in of if c.id is not None]
        if not wanted:
            return {}
        version = (await journal_head(self._db), self._signal.generation)
        tasks = {c.id: self._task(c.id, version, now) for c in wanted if c.id is not None}
        return {ident: await asyncio.shield(task) for ident, task in tasks.items()}

    def _task(
        self, crisis_id: int, version: tuple[int, int], now: datetime
    ) -> asyncio.Task[States]:
        kept = self._kept.get(crisis_id)
        if kept is None or not kept.current(version, now, self.max_age):
            if len(self._kept) >= KEPT:
                self._kept = {
                    k: v for k, v in self._kept.items() if v.current(version, now, self.max_age)
                }
            kept = _Computed(version, now, asyncio.create_task(self._compute(crisis_id, now)))
            self._kept[crisis_id] = kept
        return kept.task

    async def _compute(self, crisis_id: int, now: datetime) -> States:
        self.computations += 1
        async with self._db.read() as session:
            crisis = await crises.get(session, crisis_id=crisis_id)
            found = await overview.clock_states(session, crises=[crisis], now=now)
        return found.get(crisis_id, [])


def shared_clocks(app: FastAPI) -> SharedClocks:
    kept: SharedClocks | None = getattr(app.state, "shared_clocks", None)
    if kept is None:
        kept = app.state.shared_clocks = SharedClocks(app.state.db, app.state.live)
    return kept
