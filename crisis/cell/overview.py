"""A crisis' clocks as people read them: states, with ES48's coverage computed on read
(aggregates, see `crisis.cell.coverage`), and the people ES48 still waits for, a page at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.cell import clocks, coverage
from crisis.cell.clocks import ClockCode, ClockState
from crisis.cell.coverage import AudienceCoverage, Coverage
from crisis.cell.crises import Crisis


async def es48_coverage(
    session: AsyncSession, crisis: Crisis, *, missing_shown: int | None = coverage.MISSING_SHOWN
) -> Coverage | None:
    """ES48's coverage of the crisis since its COD, recomputed from deliveries (None: no COD)."""
    if crisis.id is None or crisis.cod_activated_at is None:
        return None
    return await coverage.es48(
        session,
        crisis_id=crisis.id,
        since=crisis.cod_activated_at,
        exercise=crisis.is_exercise,
        missing_shown=missing_shown,
        communes=crisis.communes,
    )


async def clock_states(
    session: AsyncSession,
    *,
    crises: Sequence[Crisis],
    now: datetime,
    missing_shown: int | None = coverage.MISSING_SHOWN,
    covered: Mapping[int, Coverage | None] | None = None,
) -> dict[int, list[ClockState]]:
    """Every crisis' clocks; ES48's coverage (and met time) is recomputed from deliveries, or
    taken from `covered` (by crisis id) when the caller computed it. Pages show the first
    `missing_shown` names missing; the API gives them all (None)."""
    if covered is None:
        covered = {
            crisis.id: await es48_coverage(session, crisis, missing_shown=missing_shown)
            for crisis in crises
            if crisis.id is not None
        }
    es48 = {ident: found for ident, found in covered.items() if found is not None}
    return await clocks.states(
        session,
        crisis_ids=[c.id for c in crises if c.id is not None],
        now=now,
        coverages={(ident, ClockCode.ES48): found.view() for ident, found in es48.items()},
        computed_met={(ident, ClockCode.ES48): found.met_at for ident, found in es48.items()},
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
    found = await es48_coverage(session, crisis, missing_shown=0)
    if found is None or crisis.id is None or crisis.cod_activated_at is None:
        return None
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
