"""Editing the on-call roster as the crisis side sees it: who may, and the journal entry.

Adding a shift is `crisis.directory.add_shift`; here: change, swap two shifts' people, delete,
import a CSV file (`contacts.roster_csv`). Every change runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Unpack

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from contacts import roster
from contacts.records import LineError
from contacts.roster import Shift
from contacts.roster_csv import ShiftLine, read_shifts
from crisis import journal
from crisis.actors import Actor, Role
from crisis.errors import InvalidInput, NotFound
from crisis.users import User

EDIT_ROLES = (Role.ADMIN, Role.PREFECT)
ACTION = "modifier l'astreinte"


def may_edit(actor: Actor) -> bool:
    """Whether the pages offer the roster's edit forms to `actor` (the services check again)."""
    return actor.is_system or bool(actor.roles.intersection(EDIT_ROLES))


def _described(shift: Shift) -> dict[str, Any]:
    return {
        "shift_id": shift.id,
        "role": shift.role,
        "level": shift.level,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
        "contact_id": shift.contact_id,
        "user_id": shift.user_id,
    }


@contextmanager
def _refusals() -> Iterator[None]:
    """The roster's French ValueError / LookupError as the domain's refusals."""
    try:
        yield
    except LookupError as error:
        raise NotFound("shift_not_found", str(error).capitalize() + ".") from error
    except ValueError as error:
        raise InvalidInput("invalid_shift", str(error).capitalize() + ".") from error


async def change_shift(
    session: AsyncSession,
    *,
    actor: Actor,
    shift_id: int,
    now: datetime,
    **fields: Unpack[roster.ShiftFields],
) -> Shift:
    """Replace a shift's role, level, times and person; the journal keeps before and after."""
    actor.require(*EDIT_ROLES, action=ACTION)
    with _refusals():
        before = _described(await roster.shift_by_id(session, shift_id=shift_id))
        shift = await roster.change_shift(session, shift_id=shift_id, **fields)
    await journal.append(
        session,
        actor=actor,
        action="roster.shift_changed",
        now=now,
        payload={"before": before, "after": _described(shift)},
    )
    return shift


async def swap_shifts(
    session: AsyncSession, *, actor: Actor, first_id: int, second_id: int, now: datetime
) -> tuple[Shift, Shift]:
    """Two shifts exchange their people (one covers for the other)."""
    actor.require(*EDIT_ROLES, action=ACTION)
    with _refusals():
        first, second = await roster.swap_people(session, first_id=first_id, second_id=second_id)
    await journal.append(
        session,
        actor=actor,
        action="roster.shifts_swapped",
        now=now,
        payload={"shifts": [_described(first), _described(second)]},
    )
    return first, second


async def delete_shift(
    session: AsyncSession, *, actor: Actor, shift_id: int, now: datetime
) -> None:
    actor.require(*EDIT_ROLES, action=ACTION)
    with _refusals():
        shift = await roster.delete_shift(session, shift_id=shift_id)
    await journal.append(
        session, actor=actor, action="roster.shift_deleted", now=now, payload=_described(shift)
    )


@dataclass
class RosterImportReport:
    """What a roster file holds: new shifts, shifts already there, or the lines refused."""

    dry_run: bool
    records: int = 0
    added: int = 0
    unchanged: int = 0
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _signature(
    role: str, level: int, starts: datetime, ends: datetime, contact: int | None, user: int | None
) -> tuple[object, ...]:
    return (role, level, starts.timestamp(), ends.timestamp(), contact, user)


async def import_shifts(
    session: AsyncSession,
    *,
    actor: Actor,
    stream: BinaryIO | Iterable[bytes],
    now: datetime,
    dry_run: bool = False,
    filename: str = "",
) -> RosterImportReport:
    """All or nothing: every line valid, or nothing written and each bad line named.

    A shift already in the roster (same role, level, times and person) is left as it is, so a
    file imported twice adds nothing the second time.
    """
    actor.require(*EDIT_ROLES, action=ACTION)
    users = await session.exec(select(User).where(col(User.active).is_(True)))
    logins = {u.login: (u.id, u.display_name or u.login) for u in users if u.id is not None}
    lines, errors = await read_shifts(session, stream=stream, users=logins)
    report = RosterImportReport(dry_run=dry_run, records=len(lines), errors=errors)
    if errors:
        await journal.append(
            session,
            actor=actor,
            action="roster.import_refused",
            now=now,
            payload={
                "file": filename,
                "errors": len(errors),
                "lines": [e.line for e in errors[:50]],
            },
        )
        return report
    await _add_new_shifts(session, lines=lines, report=report)
    if report.added and not dry_run:
        await journal.append(
            session,
            actor=actor,
            action="roster.imported",
            now=now,
            payload={"file": filename, "records": report.records, "added": report.added},
        )
    return report


async def _signatures_between(
    session: AsyncSession, lines: list[ShiftLine]
) -> set[tuple[object, ...]]:
    """The signatures of the roster's shifts over the file's span."""
    if not lines:
        return set()
    start, end = min(x.starts_at for x in lines), max(x.ends_at for x in lines)
    existing = await roster.shifts_between(session, start=start, end=end)
    return {
        _signature(s.role, s.level, s.starts_at, s.ends_at, s.contact_id, s.user_id)
        for s in existing
    }


async def _add_new_shifts(
    session: AsyncSession, *, lines: list[ShiftLine], report: RosterImportReport
) -> None:
    """Add the lines not yet in the roster (none on a dry run), counting them in `report`."""
    seen = await _signatures_between(session, lines)
    for line in lines:
        key = _signature(
            line.role, line.level, line.starts_at, line.ends_at, line.contact_id, line.user_id
        )
        if key in seen:
            report.unchanged += 1
            continue
        seen.add(key)
        report.added += 1
        if not report.dry_run:
            await roster.add_shift(
                session,
                role=line.role,
                level=line.level,
                starts_at=line.starts_at,
                ends_at=line.ends_at,
                contact_id=line.contact_id,
                user_id=line.user_id,
                name=line.name,
                source="import",
            )
