"""What the crisis page puts first: the next step, and what closing would leave unmet."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis.app.library import playbook_library
from crisis.bulletin import record
from crisis.cell import crises, tracks
from crisis.cell.clocks import ClockState
from crisis.cell.crises import Crisis
from crisis.cell.next_step import next_step


def _first_information_templates(crisis: Crisis) -> dict[str, str]:
    playbook = crises.playbook_for(crisis.kind, playbook_library())
    if playbook is None:
        return {}
    found: dict[str, str] = {}
    for template in playbook.templates_for(purpose="first_information"):
        found.setdefault(template.audience, template.key)
    return found


async def informed_since_cod(session: AsyncSession, crisis: Crisis) -> set[str]:
    """The audiences a bulletin was published to since the COD's activation."""
    since = crisis.cod_activated_at
    if since is None or crisis.id is None:
        return set()
    return {
        audience
        for bulletin in await record.listing(session, crisis_id=crisis.id)
        if bulletin.published_at is not None and bulletin.published_at >= since
        for audience in bulletin.audiences
    }


def context(
    *, crisis: Crisis, states: Sequence[ClockState], informed: set[str], now: datetime
) -> dict[str, Any]:
    """`next_step` (or None), its minutes left, and whether ES48 runs unmet (closing asks);
    ``informed`` from `informed_since_cod`, read beside the clocks."""
    assert crisis.id is not None
    running = {s.code: s.clock.deadline for s in states if s.clock is not None and s.met_at is None}
    step = next_step(
        crisis_id=crisis.id,
        tracks=tracks.of(crisis),
        deadlines=running,
        informed=informed,
        templates=_first_information_templates(crisis),
    )
    return {
        "next_step": step,
        "next_step_minutes": step.minutes_left(now) if step else None,
        "es48_unmet": "ES48" in running,
        "tracks": tracks.of(crisis),
    }
