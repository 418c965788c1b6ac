"""Launching a drill, exactly once: by a trainer's hand, or by the scheduler at its instant.

A launch is a run row written in the transaction that declares the drill's exercise-mode
crisis and pages its people. The scheduler claims a due drill by a compare-and-set on its
``next_run_at`` (read ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and the run is unique per
drill and occurrence: two ticks, two instances or a restart never launch one instant twice.
An occurrence missed while the service was down launches at start, marked late, unless it is
more than ``missed_after`` late: then its run is written ``missed`` and journaled. A drill
planned « ask the trainer first » (``confirm_first``) does not launch at its instant: its run
is written ``awaiting`` and its planner asked (`exercises.asking`); a trainer's confirmation
launches it (`exercises.confirming`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.geography import Commune
from contacts.roster import DutyRole, on_duty
from crisis.actors import SYSTEM, Actor
from crisis.cell import crises, lifecycle, paging
from crisis.cell.lifecycle import LifecycleRules
from crisis.cell.paging import PageTarget
from crisis.vocabulary import CrisisMode
from exercises import asking, messages, reachability, reaching
from exercises.errors import DrillConflict
from exercises.programme import TRAINERS, Drill, DrillKind, DrillRun, RunStatus, get, journal_launch
from playbooks import Playbook
from storage.backend import skip_locked

__all__ = ["LaunchRules", "Launched", "confirm", "launch_due", "launch_now"]

ON_CALL_KIND = "test-astreinte"
DRILLS = Drill.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True, kw_only=True)
class LaunchRules:
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules)
    playbooks: dict[str, Playbook] = field(default_factory=dict)
    late_after: timedelta = timedelta(minutes=2)
    missed_after: timedelta = timedelta(hours=6)
    on_call_duration: timedelta = timedelta(hours=1)
    reachability_window: timedelta = reachability.WINDOW
    reachability_duration: timedelta = timedelta(days=2)  # the officials' time to answer
    # Signs the participants' feedback links; none: the end message carries no form.
    feedback_secret: str | None = None

    @property
    def base_url(self) -> str:
        return self.lifecycle.base_url.rstrip("/")


@dataclass(frozen=True, slots=True)
class Launched:
    drill_id: int
    run: DrillRun


async def _running(session: AsyncSession, drill_id: int) -> DrillRun | None:
    query = select(DrillRun).where(
        DrillRun.drill_id == drill_id, DrillRun.status == RunStatus.RUNNING
    )
    return (await session.exec(query)).first()


async def _on_call_roster(session: AsyncSession, *, now: datetime) -> list[PageTarget]:
    """Everyone on duty now, level by level: the on-call test pages the real roster."""
    return [
        PageTarget(s.role, s.level, s.contact_id, s.user_id, s.name)
        for s in await on_duty(session, at=now)
    ]


async def _crisis_players(
    session: AsyncSession, drill: Drill, *, now: datetime
) -> list[PageTarget]:
    """The drill's participants, paged: under their exercise duty role when they hold one now
    (so that the exercise cell can reach its minimum staffing), else as communication."""
    chosen = set(drill.participants)
    found = [
        t for t in await paging.targets(session, at=now, exercise=True) if t.contact_id in chosen
    ]
    seen = {t.contact_id for t in found}
    people = await messages.active_participants(session, drill.participants)
    found += [
        PageTarget(DutyRole.COMMUNICATION.value, 1, cid, None, name)
        for cid, name in people
        if cid not in seen
    ]
    return found


async def _default_commune(session: AsyncSession) -> list[str]:
    query = select(Commune.code).order_by(col(Commune.population).desc()).limit(1)
    return list((await session.exec(query)).all())


async def _declare(
    session: AsyncSession, drill: Drill, *, rules: LaunchRules, now: datetime
) -> int:
    """The run's exercise-mode crisis, its cell ordered (ES47 runs as in a real crisis)."""
    is_crisis = drill.kind == DrillKind.CRISIS
    playbook = rules.playbooks.get(drill.playbook_key or "") if is_crisis else None
    title = drill.title if is_crisis else f"Test d'astreinte — {drill.title}"
    crisis = await crises.declare(
        session,
        actor=SYSTEM,
        title=title[:200],
        kind=playbook.kind if playbook else (drill.playbook_key or ON_CALL_KIND),
        mode=CrisisMode.EXERCISE,
        communes=list(drill.communes) or await _default_commune(session),
        now=now,
        playbook=playbook,
    )
    assert crisis.id is not None
    roster = (
        await _crisis_players(session, drill, now=now)
        if is_crisis
        else await _on_call_roster(session, now=now)
    )
    await lifecycle.order_cell(
        session, actor=SYSTEM, crisis_id=crisis.id, rules=rules.lifecycle, now=now, roster=roster
    )
    return crisis.id


async def _launch(
    session: AsyncSession,
    drill: Drill,
    *,
    actor: Actor,
    occurrence: datetime | None,
    late: bool,
    rules: LaunchRules,
    now: datetime,
    into: DrillRun | None = None,
) -> DrillRun:
    """The run launched now (`into`: the one awaiting the trainer's confirmation)."""
    assert drill.id is not None
    if drill.kind == DrillKind.REACHABILITY:
        return await reaching.launch(
            session,
            drill,
            actor=actor,
            occurrence=occurrence,
            late=late,
            window=rules.reachability_window,
            now=now,
            into=into,
        )
    crisis_id = await _declare(session, drill, rules=rules, now=now)
    run = into or DrillRun(
        drill_id=drill.id,
        occurrence_at=occurrence,
        status=RunStatus.RUNNING,
        launched_by=actor.login,
    )
    run.status, run.crisis_id, run.launched_at = RunStatus.RUNNING, crisis_id, now
    run.launched_by, run.late = actor.login, late
    session.add(run)
    await session.flush()
    await messages.send_to_participants(
        session,
        crisis_id=crisis_id,
        participants=drill.participants,
        headline=messages.START_TEXT,
        title=drill.title,
        link=f"{rules.base_url}/evenements/{crisis_id}",
        now=now,
    )
    await journal_launch(session, actor=actor, drill=drill, run=run, now=now)
    return run


async def launch_now(
    session: AsyncSession, *, actor: Actor, drill_id: int, rules: LaunchRules, now: datetime
) -> DrillRun:
    """A trainer launches the drill now; 409 while one of its runs is still going."""
    actor.require(*TRAINERS, action="lancer un exercice")
    drill = await get(session, drill_id=drill_id, for_update=True)
    if drill.archived_at is not None:
        raise DrillConflict("drill_archived", "Cet exercice est archivé : il ne se lance plus.")
    running = await _running(session, drill_id)
    if running is not None:
        raise DrillConflict(
            "drill_running",
            "Cet exercice est déjà en cours : arrêtez-le avant de le relancer.",
            {"run_id": running.id},
        )
    return await _launch(
        session, drill, actor=actor, occurrence=None, late=False, rules=rules, now=now
    )


async def confirm(
    session: AsyncSession,
    *,
    actor: Actor,
    drill_id: int,
    run_id: int,
    rules: LaunchRules,
    now: datetime,
) -> DrillRun:
    """A trainer confirms a run awaiting them (« ask the trainer first »): it launches now;
    409 when it awaits nothing or another run of the drill is still going."""
    actor.require(*TRAINERS, action="confirmer le lancement d'un exercice")
    drill, found = await asking.awaiting(session, drill_id=drill_id, run_id=run_id)
    running = await _running(session, drill_id)
    if running is not None:
        raise DrillConflict(
            "drill_running",
            "Cet exercice est déjà en cours : arrêtez-le avant de confirmer une autre séance.",
            {"run_id": running.id},
        )
    occurrence = found.occurrence_at
    late = found.late or (occurrence is not None and now - occurrence > rules.late_after)
    return await _launch(
        session,
        drill,
        actor=actor,
        occurrence=occurrence,
        late=late,
        rules=rules,
        now=now,
        into=found,
    )


async def _claim(session: AsyncSession, drill: Drill, *, now: datetime) -> list[datetime] | None:
    """The occurrences of `drill` due by `now`, its `next_run_at` moved past them; None when
    another tick took them first (compare-and-set on `next_run_at`)."""
    due: list[datetime] = []
    cursor = drill.next_run_at
    while cursor is not None and cursor <= now:
        due.append(cursor)
        cursor = drill.schedule.next_after(cursor)
    if not due:
        return None
    d = DRILLS.c
    moved = await session.exec(
        sa.update(DRILLS)
        .where(d.id == drill.id, d.next_run_at == drill.next_run_at)
        .values(next_run_at=cursor)
    )
    if moved.rowcount != 1:
        return None
    drill.next_run_at = cursor
    return due


async def _missed(
    session: AsyncSession,
    drill: Drill,
    occurrence: datetime,
    *,
    reason: str,
    rules: LaunchRules,
    now: datetime,
) -> DrillRun:
    return await asking.missed(
        session, drill, occurrence, reason=reason, base_url=rules.base_url, now=now
    )


async def _due_drills(session: AsyncSession, *, now: datetime, limit: int) -> list[Drill]:
    conn = await session.connection()
    ids_query = (
        sa.select(DRILLS.c.id)
        .where(DRILLS.c.next_run_at.is_not(None), DRILLS.c.next_run_at <= now)
        .order_by(DRILLS.c.next_run_at)
        .limit(limit)
    )
    ids = list((await conn.execute(skip_locked(ids_query, conn, of=DRILLS))).scalars())
    if not ids:
        return []
    query = select(Drill).where(col(Drill.id).in_(ids)).execution_options(populate_existing=True)
    return list((await session.exec(query)).all())


async def launch_due(
    session: AsyncSession,
    *,
    rules: LaunchRules,
    now: datetime,
    catch_up: bool = False,
    limit: int = 50,
) -> list[DrillRun]:
    """The scheduler's launches (in the caller's transaction): each due occurrence once."""
    written: list[DrillRun] = []
    for drill in await _due_drills(session, now=now, limit=limit):
        due = await _claim(session, drill, now=now)
        if not due:
            continue
        *skipped, last = due
        for occurrence in skipped:  # a later occurrence came due too: this one is past
            written.append(
                await _missed(session, drill, occurrence, reason="dépassé", rules=rules, now=now)
            )
        if now - last > rules.missed_after:
            reason = "service arrêté au-delà du délai de rattrapage"
            written.append(await _missed(session, drill, last, reason=reason, rules=rules, now=now))
            continue
        assert drill.id is not None
        if await _running(session, drill.id) is not None:
            reason = "la séance précédente est encore en cours"
            written.append(await _missed(session, drill, last, reason=reason, rules=rules, now=now))
            continue
        late = catch_up or now - last > rules.late_after
        if drill.confirm_first:
            written.append(
                await asking.ask_trainer(
                    session, drill, last, late=late, base_url=rules.base_url, now=now
                )
            )
            continue
        try:
            launched = await _launch(
                session, drill, actor=SYSTEM, occurrence=last, late=late, rules=rules, now=now
            )
        except DrillConflict as refused:  # a reachability test unapproved or too soon
            launched = await _missed(
                session, drill, last, reason=refused.message, rules=rules, now=now
            )
        written.append(launched)
    return written
