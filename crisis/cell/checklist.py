"""The crisis' own copy of its playbook checklist, and who ticked what when."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from crisis import journal
from crisis.actors import Actor, Role
from crisis.errors import Conflict, NotFound
from playbooks import Playbook, checklist_items
from storage.types import UTCDateTime

if TYPE_CHECKING:
    from crisis.cell.crises import Crisis

STAFF_ROLES = (Role.PREFECT, Role.VALIDATOR, Role.COMMUNICATOR, Role.OPERATOR)


class ChecklistEntry(SQLModel, table=True):
    """One step copied from the playbook at declaration; later playbook edits never reach it."""

    __tablename__ = "crisis_checklist_item"
    __table_args__ = (sa.UniqueConstraint("crisis_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    position: int
    title: str = Field(max_length=300)
    role: str = Field(max_length=20)
    due_offset_min: int
    due_at: datetime = Field(sa_type=UTCDateTime)
    action: str | None = Field(default=None, max_length=40)
    playbook_key: str = Field(max_length=60)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, max_length=64)


async def copy_from(
    session: AsyncSession, *, crisis_id: int, playbook: Playbook, activated_at: datetime
) -> int:
    """Copy the playbook's checklist into the crisis; returns the number of items."""
    items = checklist_items(playbook, activated_at=activated_at)
    session.add_all(
        ChecklistEntry(
            crisis_id=crisis_id,
            position=item.position,
            title=item.title,
            role=item.role,
            due_offset_min=item.due_offset_min,
            due_at=item.due_at,
            action=item.action,
            playbook_key=item.playbook_key,
        )
        for item in items
    )
    await session.flush()
    return len(items)


async def for_crisis(session: AsyncSession, *, crisis_id: int) -> list[ChecklistEntry]:
    query = (
        select(ChecklistEntry)
        .where(ChecklistEntry.crisis_id == crisis_id)
        .order_by(col(ChecklistEntry.position))
    )
    return list((await session.exec(query)).all())


async def mark(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    position: int,
    done: bool,
    crisis_open: bool,
    now: datetime,
) -> ChecklistEntry:
    """Tick (or untick) one step; both are journaled."""
    actor.require(*STAFF_ROLES, action="cocher la liste de la fiche réflexe")
    query = select(ChecklistEntry).where(
        ChecklistEntry.crisis_id == crisis_id, ChecklistEntry.position == position
    )
    entry = (await session.exec(query.with_for_update())).first()
    if entry is None:
        raise NotFound("checklist_item_not_found", f"Aucune étape n° {position} dans la liste.")
    if not crisis_open:
        raise Conflict("crisis_closed", "L'événement est clos : sa liste ne change plus.")
    if done == (entry.done_at is not None):
        state = "déjà cochée" if done else "pas cochée"
        raise Conflict("checklist_unchanged", f"L'étape n° {position} est {state}.")
    entry.done_at = now if done else None
    entry.done_by = actor.login if done else None
    session.add(entry)
    await journal.append(
        session,
        actor=actor,
        action="checklist.ticked" if done else "checklist.unticked",
        now=now,
        crisis_id=crisis_id,
        payload={"position": position, "title": entry.title},
    )
    return entry


# Steps whose deadline counts from their own trigger, not from the declaration: the cell is
# declared operational within its offset of being ordered (ES47), the first bulletin is
# published within its offset of the COD (ES48).
REBASED_ON = {
    "order_cell": ("declare_cell_operational",),
    "activate_cod": ("publish_first_bulletin",),
}
# What each trigger is called on the checklist: « en attente de l'activation du COD », then
# « COD + 40 min ».
TRIGGER_LABELS = {
    "order_cell": ("l'ordre d'activer la cellule", "ordre de cellule"),
    "activate_cod": ("l'activation du COD", "COD"),
}
TRIGGER_OF = {
    follower: trigger for trigger, followers in REBASED_ON.items() for follower in followers
}
FIRST_AUDIENCES = frozenset({"officials", "media", "public"})
# The bulletin rows this wing reads (crisis.bulletin imports the cell wing, not the reverse).
BULLETIN = sa.table(
    "bulletin",
    sa.column("crisis_id", sa.Integer),
    sa.column("audiences", sa.JSON),
    sa.column("published_at", sa.DateTime),
)


async def system_saw(
    session: AsyncSession,
    *,
    actor: Actor,
    crisis_id: int,
    action: str,
    at: datetime,
    now: datetime,
) -> list[int]:
    """Tocsin saw `action` happen at `at`: tick its steps, and count the deadlines of the
    steps it triggers from `at`. Returns the positions ticked; each tick is journaled."""
    rebased = REBASED_ON.get(action, ())
    query = select(ChecklistEntry).where(
        ChecklistEntry.crisis_id == crisis_id,
        col(ChecklistEntry.action).in_([action, *rebased]),
    )
    ticked: list[int] = []
    for entry in (await session.exec(query.with_for_update())).all():
        if entry.action in rebased and entry.done_at is None:
            entry.due_at = at + timedelta(minutes=entry.due_offset_min)
            session.add(entry)
        if entry.action != action or entry.done_at is not None:
            continue
        entry.done_at, entry.done_by = at, actor.login
        session.add(entry)
        ticked.append(entry.position)
        await journal.append(
            session,
            actor=actor,
            action="checklist.ticked",
            now=now,
            crisis_id=crisis_id,
            payload={"position": entry.position, "title": entry.title},
        )
    return ticked


async def saw_publication(
    session: AsyncSession, *, actor: Actor, crisis_id: int, now: datetime
) -> list[int]:
    """After a publication: the first-information step ticks itself once élus, médias and
    public have each had a published bulletin."""
    audiences = BULLETIN.c.audiences
    published = sa.select(audiences).where(
        BULLETIN.c.crisis_id == crisis_id, BULLETIN.c.published_at.is_not(None)
    )
    await session.flush()
    conn = await session.connection()
    informed = {a for (row,) in (await conn.execute(published)).tuples() for a in row or ()}
    if not informed >= FIRST_AUDIENCES:
        return []
    return await system_saw(
        session,
        actor=actor,
        crisis_id=crisis_id,
        action="publish_first_bulletin",
        at=now,
        now=now,
    )


@dataclass(frozen=True)
class Step:
    """One step as the crisis page shows it: a step whose trigger has not happened yet waits
    for it (never overdue); its deadline then counts from the trigger."""

    entry: ChecklistEntry
    due_at: datetime | None
    counted_from: str  # « H » (the declaration) or the trigger's short name
    waiting_for: str | None
    overdue: bool


def steps(
    entries: Sequence[ChecklistEntry],
    *,
    triggered_at: Mapping[str, datetime | None],
    now: datetime,
) -> list[Step]:
    """The checklist as shown at `now`. `triggered_at`: when Tocsin saw each trigger happen
    (the cell ordered, the COD activated); a trigger step ticked by hand counts too."""
    ticked = {e.action: e.done_at for e in entries if e.action and e.done_at}
    shown = []
    for entry in entries:
        trigger = TRIGGER_OF.get(entry.action or "")
        if trigger is None:
            due: datetime | None = entry.due_at
            counted_from, waiting_for = "H", None
        else:
            waiting, counted_from = TRIGGER_LABELS[trigger]
            at = triggered_at.get(trigger) or ticked.get(trigger)
            due = at + timedelta(minutes=entry.due_offset_min) if at else None
            waiting_for = None if at or entry.done_at else waiting
        overdue = entry.done_at is None and due is not None and due < now
        shown.append(Step(entry, due, counted_from, waiting_for, overdue))
    return shown


def triggers_seen(crisis: Crisis) -> dict[str, datetime | None]:
    """When Tocsin saw each trigger happen in `crisis` (None: not yet)."""
    return {"order_cell": crisis.cell_ordered_at, "activate_cod": crisis.cod_activated_at}


def entry_view(entry: ChecklistEntry) -> dict[str, Any]:
    return {
        "position": entry.position,
        "title": entry.title,
        "role": entry.role,
        "due_offset_min": entry.due_offset_min,
        "due_at": entry.due_at.isoformat(),
        "action": entry.action,
        "playbook_key": entry.playbook_key,
        "done_at": entry.done_at.isoformat() if entry.done_at else None,
        "done_by": entry.done_by,
    }
