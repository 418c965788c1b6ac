"""The drills as the API and the pages show them (plain dicts, ISO 8601 instants)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import privacy
from crisis.actors import Actor
from crisis.cell import crises
from crisis.errors import NotFound
from exercises import feedback, inject_views, notes, reachability, results, scoring
from exercises.programme import (
    KIND_LABELS,
    READERS,
    RUN_LABELS,
    Drill,
    DrillKind,
    DrillRun,
    RunStatus,
    get,
    listing,
    runs_of,
)

__all__ = ["drill_detail", "drill_view", "drills", "report", "run_view"]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def run_view(run: DrillRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "crisis_id": run.crisis_id,
        "status": run.status,
        "status_label": RUN_LABELS.get(run.status, run.status),
        "occurrence_at": _iso(run.occurrence_at),
        "launched_at": _iso(run.launched_at),
        "launched_by": run.launched_by,
        "late": run.late,
        "ended_at": _iso(run.ended_at),
        "ended_by": run.ended_by,
        "stop_reason": run.stop_reason,
    }


def drill_view(drill: Drill, runs: Sequence[DrillRun]) -> dict[str, Any]:
    return {
        "id": drill.id,
        "title": drill.title,
        "kind": drill.kind,
        "kind_label": KIND_LABELS.get(drill.kind, drill.kind),
        "playbook": drill.playbook_key,
        "communes": list(drill.communes),
        "participants": list(drill.participants),
        "starts_at": _iso(drill.starts_at),
        "rrule": drill.rrule,
        "first_at": _iso(drill.first_at),
        "next_run_at": _iso(drill.next_run_at),
        "confirm_first": drill.confirm_first,
        "created_at": drill.created_at.isoformat(),
        "created_by": drill.created_by,
        "approved_by": drill.approved_by,
        "approved_at": _iso(drill.approved_at),
        "awaiting_approval": drill.awaiting_approval,
        "archived_at": _iso(drill.archived_at),
        "archived_by": drill.archived_by,
        "running": any(r.status == RunStatus.RUNNING for r in runs),
        "runs": [run_view(r) for r in runs],
    }


async def drills(session: AsyncSession, *, actor: Actor) -> list[dict[str, Any]]:
    actor.require(*READERS, action="consulter le programme d'exercices")
    found = await listing(session)
    runs = await runs_of(session, drill_ids=[d.id for d in found if d.id is not None])
    return [drill_view(d, runs.get(d.id or 0, [])) for d in found]


async def drill_detail(session: AsyncSession, *, actor: Actor, drill_id: int) -> dict[str, Any]:
    actor.require(*READERS, action="consulter un exercice")
    drill = await get(session, drill_id=drill_id)
    runs = await runs_of(session, drill_ids=[drill_id])
    return drill_view(drill, runs.get(drill_id, [])) | {
        "injects": await inject_views.of_drill(session, drill)
    }


async def report(
    session: AsyncSession, *, actor: Actor, drill_id: int, run_id: int, now: datetime
) -> dict[str, Any]:
    """The run's report (RETEX): clocks, first bulletin and rates per audience, who answered
    the pages and how fast per duty role, and the timeline; figures so far while it runs."""
    actor.require(*READERS, action="consulter le bilan d'un exercice")
    drill = await get(session, drill_id=drill_id)
    runs = await runs_of(session, drill_ids=[drill_id])
    found = next((r for r in runs.get(drill_id, []) if r.id == run_id), None)
    if found is None:
        raise NotFound("run_not_found", f"Aucune séance n° {run_id} pour cet exercice.")
    shown: dict[str, Any] = {
        "drill_id": drill.id,
        "title": drill.title,
        "kind": drill.kind,
        "kind_label": KIND_LABELS.get(drill.kind, drill.kind),
        "run": run_view(found),
        "generated_at": now.isoformat(),
        "clocks": [],
        "audiences": [],
        "totals": scoring.totals([]),
        "answers": [],
        "by_role": [],
        "timeline": [],
        "timeline_limit": scoring.TIMELINE_SHOWN,
        "notes": None,
        "reachability": None,
        "injects": [],
        "injects_paused_at": _iso(found.injects_paused_at),
        "feedback": await feedback.summary(session, run_id=run_id),
    }
    if drill.kind == DrillKind.REACHABILITY:
        figures = await reachability.result(
            session,
            officials=drill.participants,
            message_ids=found.reach_messages or [],
            until=found.ended_at,
        )
        shown["reachability"] = figures.view()
    if found.crisis_id is None:
        return shown
    crisis = await crises.get(session, crisis_id=found.crisis_id)
    lines = await results.answers(session, crisis_id=found.crisis_id)
    audiences = await scoring.audiences(session, crisis=crisis, since=found.launched_at)
    personal = privacy.sees_personal_data(actor)
    return shown | {
        "clocks": await scoring.clock_results(session, crisis=crisis, now=now),
        "audiences": audiences,
        "totals": scoring.totals(audiences),
        "answers": [line.view() for line in lines],
        "by_role": [f.view() for f in results.by_role(lines)],
        "notes": await notes.latest(session, crisis_id=found.crisis_id),
        "injects": await inject_views.of_run(session, drill, found, now=now),
        "timeline": await scoring.timeline(session, crisis_id=found.crisis_id, personal=personal),
    }
