"""Clock alerts: every threshold reached by a running clock goes out once, to the staff list.

The tick claims due thresholds with a compare-and-set (`sent_at IS NULL`, plus `FOR UPDATE
SKIP LOCKED` on PostgreSQL), enqueues the alert through the outbox and journals it in the same
transaction: two ticks, two instances or a restart never send one twice. An alert sent at
start-up for a threshold passed while the service was down (or later than `late_after`) is
marked late.

The staff list of a crisis is the cell members who answered the page; when nobody answered
yet, the on-call roster (level 1, every duty role) at that instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts.directory import Contact
from contacts.roster import on_duty
from crisis import journal_batch
from crisis.actors import SYSTEM
from crisis.cell import paging
from crisis.cell.clocks import CLOCK_LABELS, Clock, ClockAlert
from crisis.cell.crises import Crisis
from crisis.dispatch import outbox
from crisis.dispatch.outbox import DeliveryRequest, Purpose, Rendering
from crisis.vocabulary import CrisisMode, CrisisStatus
from storage.backend import id_among, skip_locked
from storage.rawsql import collector_paused

PARIS = ZoneInfo("Europe/Paris")
ALERTS = ClockAlert.__table__  # type: ignore[attr-defined]
CLOCKS = Clock.__table__  # type: ignore[attr-defined]
CRISES = Crisis.__table__  # type: ignore[attr-defined]
CONTACTS = Contact.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class DueAlert:
    alert_id: int
    crisis_id: int
    code: str
    threshold_min: int
    due_at: datetime
    deadline: datetime
    title: str
    exercise: bool


@dataclass(frozen=True, slots=True)
class SentAlert:
    alert: DueAlert
    late: bool
    recipients: int


def _hour(instant: datetime) -> str:
    local = instant.astimezone(PARIS)
    return f"{local.hour} h {local.minute:02d}"


def alert_text(alert: DueAlert, *, base_url: str) -> tuple[str, str, str]:
    """(subject, text, link) of one alert, in French."""
    prefix = f"{paging.EXERCISE_PREFIX} — " if alert.exercise else ""
    label = CLOCK_LABELS.get(alert.code, alert.code)
    minutes = int(
        (alert.deadline - (alert.due_at - timedelta(minutes=alert.threshold_min))).total_seconds()
        // 60
    )
    if alert.threshold_min >= minutes:
        state = f"échéance de {_hour(alert.deadline)} atteinte, engagement non tenu"
    else:
        state = f"{alert.threshold_min} min écoulées, échéance à {_hour(alert.deadline)}"
    link = f"{base_url.rstrip('/')}/evenements/{alert.crisis_id}"
    subject = f"{prefix}Tocsin {alert.code} : {state}"
    text = f"{prefix}{alert.code} « {label} » : {state}. Événement : « {alert.title} ». {link}"
    return subject, text, link


async def _due(session: AsyncSession, *, now: datetime, limit: int) -> list[DueAlert]:
    a, k, c = ALERTS.c, CLOCKS.c, CRISES.c
    query = (
        sa.select(a.id, a.crisis_id, k.code, a.threshold_min, a.due_at, k.deadline, c.title, c.mode)
        .select_from(ALERTS.join(CLOCKS, k.id == a.clock_id).join(CRISES, c.id == a.crisis_id))
        .where(
            a.sent_at.is_(None),
            a.due_at <= now,
            k.met_at.is_(None),
            c.status != CrisisStatus.CLOSED.value,
        )
        .order_by(a.due_at, a.id)
        .limit(limit)
    )
    conn = await session.connection()
    rows = (await conn.execute(skip_locked(query, conn, of=ALERTS))).all()
    return [
        DueAlert(
            row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] == CrisisMode.EXERCISE
        )
        for row in rows
    ]


async def _claim(session: AsyncSession, ids: list[int], *, now: datetime, late: bool) -> set[int]:
    if not ids:
        return set()
    a = ALERTS.c
    conn = await session.connection()
    chosen = id_among(a.id, ids, conn)
    stmt = (
        sa.update(ALERTS)
        .where(chosen, a.sent_at.is_(None))
        .values(sent_at=now, late=late)
        .returning(a.id)
    )
    return set((await conn.execute(stmt)).scalars().all())


async def staff_lists(
    session: AsyncSession, *, exercise: Mapping[int, bool], now: datetime
) -> dict[int, list[tuple[int | None, str]]]:
    """Per crisis, (contact_id, name) of the people its alerts go to.

    `exercise` tells, for each crisis id, whether it is an exercise (its alerts then go to the
    exercise contacts only).
    """
    acks = await paging.acknowledgements(session, crisis_ids=list(exercise))
    named: dict[int, dict[str, tuple[int | None, str]]] = {}
    for ack in acks:
        named.setdefault(ack.crisis_id, {})[ack.person] = (ack.contact_id, ack.name)
    roster: list[tuple[int | None, str]] | None = None
    exercise_roster: list[tuple[int | None, str]] | None = None
    result: dict[int, list[tuple[int | None, str]]] = {}
    for crisis_id, is_exercise in exercise.items():
        if named.get(crisis_id):
            result[crisis_id] = list(named[crisis_id].values())
            continue
        if is_exercise:
            if exercise_roster is None:
                found = await paging.targets(session, at=now, exercise=True)
                exercise_roster = [(t.contact_id, t.name) for t in found if t.level == 1]
            result[crisis_id] = exercise_roster
            continue
        if roster is None:
            roster = list(
                {
                    (s.contact_id, s.name): None
                    for s in await on_duty(session, at=now)
                    if s.level == 1
                }
            )
        result[crisis_id] = roster
    return result


async def send_due(
    session: AsyncSession,
    *,
    now: datetime,
    base_url: str,
    catch_up: bool = False,
    late_after: timedelta = timedelta(seconds=5),
    limit: int = 500,
) -> list[SentAlert]:
    """Send the due alerts of running clocks (one batch, in the caller's transaction).

    A batch allocates thousands of short-lived, acyclic objects: the cyclic collector pauses
    while they are built, a synchronous block (as in `storage.rawsql`), so that no collection
    of the whole heap (~0.1 s) lands between a threshold and its alert.
    """
    return await _send_batch(
        session,
        now=now,
        base_url=base_url,
        catch_up=catch_up,
        late_after=late_after,
        limit=limit,
    )


def _outgoing(
    alert: DueAlert, requests: list[DeliveryRequest], *, base_url: str
) -> outbox.Outgoing:
    subject, text, link = alert_text(alert, base_url=base_url)
    return outbox.Outgoing(
        renderings=[
            Rendering(channel=ch, text=text, subject=subject, link=link)
            for ch in sorted({r.channel for r in requests})
        ],
        requests=requests,
        exercise=alert.exercise,
        crisis_id=alert.crisis_id,
    )


def _journal_entry(sent: SentAlert) -> journal_batch.Pending:
    alert = sent.alert
    return journal_batch.Pending(
        actor=SYSTEM,
        action="clock.alert_sent",
        crisis_id=alert.crisis_id,
        payload={
            "clock": alert.code,
            "threshold_min": alert.threshold_min,
            "due_at": alert.due_at.isoformat(),
            "late": sent.late,
            "recipients": sent.recipients,
        },
    )


async def _send_batch(
    session: AsyncSession,
    *,
    now: datetime,
    base_url: str,
    catch_up: bool,
    late_after: timedelta,
    limit: int,
) -> list[SentAlert]:
    due = await _due(session, now=now, limit=limit)
    if not due:
        return []
    late_ids = [d.alert_id for d in due if catch_up or now - d.due_at > late_after]
    late_set = set(late_ids)
    on_time_ids = [d.alert_id for d in due if d.alert_id not in late_set]
    claimed = await _claim(session, late_ids, now=now, late=True)
    claimed |= await _claim(session, on_time_ids, now=now, late=False)
    mine = [d for d in due if d.alert_id in claimed]
    staff = await staff_lists(session, exercise={d.crisis_id: d.exercise for d in mine}, now=now)
    contact_ids = sorted({cid for people in staff.values() for cid, _ in people if cid})
    channels = await paging.first_channels(session, contact_ids=contact_ids)
    sent: list[SentAlert] = []
    batch: list[outbox.Outgoing] = []
    entries: list[journal_batch.Pending] = []
    with collector_paused():  # synchronous: no await while the collector is off
        for alert in mine:
            requests = [
                paging.request_for(
                    channel=channels.get(cid) if cid else None,
                    name=name,
                    contact_id=cid,
                    exercise=alert.exercise,
                )
                for cid, name in staff.get(alert.crisis_id, [])
            ]
            if requests:
                batch.append(_outgoing(alert, requests, base_url=base_url))
            sent.append(SentAlert(alert, alert.alert_id in late_set, len(requests)))
            entries.append(_journal_entry(sent[-1]))
    await outbox.enqueue_many(session, purpose=Purpose.CLOCK_ALERT, batch=batch, now=now)
    await journal_batch.append_many(session, entries=entries, now=now)
    return sent
