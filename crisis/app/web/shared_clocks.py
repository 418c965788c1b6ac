"""A crisis' clock states (ES48's coverage with them) computed once per change for everyone.

The dashboard, the crisis page, its panel fragment and the live stream's figures all show the
same clocks, whoever looks: one computation of a crisis' states serves every page and stream
of the process while it is current, as `shared_pages` does for whole pages.

- For a page (``not_before`` given, `shared_pages.not_before`): at most `MAX_AGE` old by the
  app's clock, and not computed before the viewer's own last action.
- For the live stream and a live region's refresh (``not_before`` None), also: the journal's
  last entry is the same (a journaled action, in any process, shows at once), and no write
  transaction committed in this process since (`crisis.app.live.JournalSignal`'s generation: a
  delivery recorded here, a session touched).

The crises due at once (a dashboard's open crises) are computed together: their rows in one
statement, their clocks in two, each crisis' ES48 coverage in a read of its own, side by side.
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
from crisis.cell.coverage import Coverage
from crisis.cell.crises import Crisis

States = list[ClockState]
Computed = dict[int, States]
KEPT = 200
"""Past that many crises kept, the stale ones go."""


@dataclass(slots=True)
class _Computed:
    version: tuple[int, int]  # the journal's last entry and this process' write generation
    at: datetime
    task: asyncio.Task[Computed]  # with the crises computed together

    def current(
        self,
        version: tuple[int, int] | None,
        not_before: int | None,
        now: datetime,
        max_age: timedelta,
    ) -> bool:
        """Serves the live stream (``not_before`` None: as of `version`, the journal's last
        entry and this process' writes) or a page (not computed before `not_before`); either
        within `max_age`."""
        if not timedelta(0) <= now - self.at <= max_age:
            return False
        if self.version[0] < (not_before or 0) or (not_before is None and self.version != version):
            return False
        done = self.task.done()
        return not (done and (self.task.cancelled() or self.task.exception() is not None))


class SharedClocks:
    def __init__(self, db: Database, signal: JournalSignal, *, max_age: float = MAX_AGE) -> None:
        self._db, self._signal = db, signal
        self.max_age = timedelta(seconds=max_age)
        self._kept: dict[int, _Computed] = {}
        self.computations = 0

    async def states(
        self, of: Sequence[Crisis], now: datetime, *, not_before: int | None = None
    ) -> dict[int, States]:
        """Each crisis' clock states, as `overview.clock_states` gives them to pages."""
        wanted = [c.id for c in of if c.id is not None]
        if not wanted:
            return {}
        version: tuple[int, int] | None = None
        if not_before is None or not all(self._serves(i, None, not_before, now) for i in wanted):
            version = (await journal_head(self._db), self._signal.generation)
        due = [i for i in wanted if not self._serves(i, version, not_before, now)]
        if due:
            assert version is not None  # read whenever a computation is due
            if len(self._kept) >= KEPT:
                self._kept = {
                    k: v for k, v in self._kept.items() if v.current(None, 0, now, self.max_age)
                }
            computed = _Computed(version, now, asyncio.create_task(self._compute(due, now)))
            self._kept.update(dict.fromkeys(due, computed))
        tasks = {i: self._kept[i].task for i in wanted}
        return {i: (await asyncio.shield(task)).get(i, []) for i, task in tasks.items()}

    def _serves(
        self, crisis_id: int, version: tuple[int, int] | None, not_before: int | None, now: datetime
    ) -> bool:
        kept = self._kept.get(crisis_id)
        return kept is not None and kept.current(version, not_before, now, self.max_age)

    async def _compute(self, crisis_ids: list[int], now: datetime) -> Computed:
        self.computations += len(crisis_ids)
        async with self._db.read() as session:
            found = await crises.among(session, crisis_ids=crisis_ids)
        coverages = await asyncio.gather(*(self._es48(crisis) for crisis in found))
        covered = {c.id or 0: cover for c, cover in zip(found, coverages, strict=True)}
        async with self._db.read() as session:
            return await overview.clock_states(session, crises=found, now=now, covered=covered)

    async def _es48(self, crisis: Crisis) -> Coverage | None:
        if crisis.cod_activated_at is None:
            return None
        async with self._db.read() as session:
            return await overview.es48_coverage(session, crisis)


def shared_clocks(app: FastAPI) -> SharedClocks:
    kept: SharedClocks | None = getattr(app.state, "shared_clocks", None)
    if kept is None:
        kept = app.state.shared_clocks = SharedClocks(app.state.db, app.state.live)
    return kept
