"""A crisis' clocks as people read them: states, with ES48's coverage computed on read
(aggregates, see `crisis.cell.coverage`), and the people ES48 still waits for, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.cell import clocks, coverage
from crisis.cell.clocks import ClockCode, ClockState
from crisis.cell.coverage import AudienceCoverage
from crisis.cell.crises import Crisis


async def clock_states(
    session: AsyncSession,
    *,
    crises: Sequence[Crisis],
    now: datetime,
    missing_shown: int | None = coverage.MISSING_SHOWN,
) -> dict[int, list[ClockState]]:
    """Every crisis' clocks; ES48's coverage (and met time) is recomputed from deliveries.
    Pages show the first `missing_shown` names missing; the API gives them all (None)."""
    coverages: dict[tuple[int, str], dict[str, Any]] = {}
    computed: dict[tuple[int, str], datetime | None] = {}
    for crisis in crises:
        if crisis.id is None or crisis.cod_activated_at is None:
            continue
        found = await coverage.es48(
            session,
            crisis_id=crisis.id,
            since=crisis.cod_activated_at,
            exercise=crisis.is_exercise,
            missing_shown=missing_shown,
            communes=crisis.communes,
        )
        coverages[(crisis.id, ClockCode.ES48)] = found.view()
        computed[(crisis.id, ClockCode.ES48)] = found.met_at
    return await clocks.states(
        session,
        crisis_ids=[c.id for c in crises if c.id is not None],
        now=now,
        coverages=coverages,
        computed_met=computed,
    )


@dataclass(frozen=True, slots=True)
class MissingPage:
    """One page of an audience's people not informed yet (ES48), with how many there are."""

    coverage: AudienceCoverage
    names: list[str]
    offset: int


async def es48_missing(
    session: AsyncSession, *, crisis: Crisis, audience: str, limit: int, offset: int
) -> MissingPage | None:
    """A page of the officials or media ES48 still waits for (None: no COD yet)."""
    if crisis.id is None or crisis.cod_activated_at is None:
        return None
    found = await coverage.es48(
        session,
        crisis_id=crisis.id,
        since=crisis.cod_activated_at,
        exercise=crisis.is_exercise,
        missing_shown=0,
        communes=crisis.communes,
    )
    names = await coverage.missing_page(
        session,
        crisis_id=crisis.id,
        since=crisis.cod_activated_at,
        exercise=crisis.is_exercise,
        audience=audience,
        limit=limit,
        offset=offset,
    )
    return MissingPage(getattr(found, audience), names, offset)
