"""Issue 18 item 12: the on-call roster is edited (change, swap, delete, import a CSV file),
by administrators and the prefect's office only, each change journaled."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from contacts.roster import Shift, shifts_between
from crisis import directory, roster_edits
from crisis.actors import Actor, Role
from crisis.app.db import Database
from crisis.errors import Forbidden, InvalidInput, NotFound
from crisis.journal import JournalEntry
from tests.support import FrozenClock, make_user

T0 = datetime(2026, 12, 7, 7, tzinfo=UTC)  # 8 h in Paris
PREFECT = Actor(1, "prefet", frozenset({Role.PREFECT}))
COMMUNICATOR = Actor(2, "com", frozenset({Role.COMMUNICATOR}))


async def _shift(db: Database, clock: FrozenClock, user_id: int, name: str, days: int) -> int:
    async with db.transaction() as session:
        shift = await directory.add_shift(
            session, actor=PREFECT, now=clock.now(), role="validator", level=1,
            starts_at=T0 + timedelta(days=days), ends_at=T0 + timedelta(days=days + 7),
            user_id=user_id, name=name,
        )  # fmt: skip
        assert shift.id is not None
        return shift.id


async def _journal(db: Database, action: str) -> list[dict[str, object]]:
    async with db.read() as session:
        rows = await session.exec(select(JournalEntry).where(JournalEntry.action == action))
        return [json.loads(r.payload) for r in rows]


async def test_two_shifts_swap_their_people_and_keep_their_times(
    db: Database, clock: FrozenClock
) -> None:
    anne = await make_user(db, clock, "anne", "validator")
    bruno = await make_user(db, clock, "bruno", "validator")
    first = await _shift(db, clock, anne.id, "Anne", 0)
    second = await _shift(db, clock, bruno.id, "Bruno", 7)
    async with db.transaction() as session:
        await roster_edits.swap_shifts(
            session, actor=PREFECT, first_id=first, second_id=second, now=clock.now()
        )
    async with db.read() as session:
        a, b = await session.get(Shift, first), await session.get(Shift, second)
    assert a is not None and b is not None
    assert (a.name, a.user_id, a.starts_at) == ("Bruno", bruno.id, T0)
    assert (b.name, b.user_id, b.starts_at) == ("Anne", anne.id, T0 + timedelta(days=7))
    [entry] = await _journal(db, "roster.shifts_swapped")
    assert [s["shift_id"] for s in entry["shifts"]] == [first, second]  # type: ignore[index]


async def test_a_changed_shift_is_journaled_with_what_it_was_before(
    db: Database, clock: FrozenClock
) -> None:
    anne = await make_user(db, clock, "anne", "validator")
    shift_id = await _shift(db, clock, anne.id, "Anne", 0)
    async with db.transaction() as session:
        await roster_edits.change_shift(
            session, actor=PREFECT, shift_id=shift_id, now=clock.now(), role="prefect", level=2,
            starts_at=T0, ends_at=T0 + timedelta(days=1), user_id=anne.id, name="Anne",
        )  # fmt: skip
    [entry] = await _journal(db, "roster.shift_changed")
    assert entry["before"]["role"] == "validator" and entry["after"]["role"] == "prefect"  # type: ignore[index]
    assert entry["after"]["level"] == 2  # type: ignore[index]


async def test_a_shift_ending_before_it_starts_is_refused_and_nothing_changes(
    db: Database, clock: FrozenClock
) -> None:
    anne = await make_user(db, clock, "anne", "validator")
    shift_id = await _shift(db, clock, anne.id, "Anne", 0)
    with pytest.raises(InvalidInput, match="La fin de l'astreinte doit suivre son début"):
        async with db.transaction() as session:
            await roster_edits.change_shift(
                session, actor=PREFECT, shift_id=shift_id, now=clock.now(), role="validator",
                level=1, starts_at=T0, ends_at=T0 - timedelta(hours=1), user_id=anne.id,
            )  # fmt: skip
    async with db.read() as session:
        shift = await session.get(Shift, shift_id)
    assert shift is not None and shift.ends_at == T0 + timedelta(days=7)
    assert await _journal(db, "roster.shift_changed") == []


async def test_only_administrators_and_the_prefects_office_edit_the_roster(
    db: Database, clock: FrozenClock
) -> None:
    anne = await make_user(db, clock, "anne", "validator")
    shift_id = await _shift(db, clock, anne.id, "Anne", 0)
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await roster_edits.delete_shift(
                session, actor=COMMUNICATOR, shift_id=shift_id, now=clock.now()
            )
    async with db.transaction() as session:
        await roster_edits.delete_shift(session, actor=PREFECT, shift_id=shift_id, now=clock.now())
    with pytest.raises(NotFound):
        async with db.transaction() as session:
            await roster_edits.delete_shift(
                session, actor=PREFECT, shift_id=shift_id, now=clock.now()
            )
    assert [e["shift_id"] for e in await _journal(db, "roster.shift_deleted")] == [shift_id]


def _csv(*lines: str) -> io.BytesIO:
    return io.BytesIO(("role;niveau;debut;fin;contact;utilisateur\n" + "\n".join(lines)).encode())


async def test_a_roster_file_is_imported_whole_and_a_second_time_adds_nothing(
    db: Database, clock: FrozenClock
) -> None:
    await make_user(db, clock, "anne", "validator")
    await make_user(db, clock, "bruno", "communicator")
    lines = (
        "valideur;1;2026-12-07 08:00;2026-12-14 08:00;;anne",
        "communication;2;07/12/2026 08:00;14/12/2026 08:00;;bruno",
    )
    for expected_added in (2, 0):
        async with db.transaction() as session:
            report = await roster_edits.import_shifts(
                session, actor=PREFECT, stream=_csv(*lines), now=clock.now(), filename="t.csv"
            )
        assert report.ok and report.added == expected_added
    async with db.read() as session:
        shifts = await shifts_between(session, start=T0, end=T0 + timedelta(days=1))
    assert [(s.role, s.level, s.starts_at, s.name) for s in shifts] == [
        ("communication", 2, T0, "bruno"),
        ("validator", 1, T0, "anne"),
    ]
    assert len(await _journal(db, "roster.imported")) == 1


async def test_a_roster_file_with_one_bad_line_writes_nothing_and_names_each_bad_line(
    db: Database, clock: FrozenClock
) -> None:
    await make_user(db, clock, "anne", "validator")
    async with db.transaction() as session:
        report = await roster_edits.import_shifts(
            session,
            actor=PREFECT,
            stream=_csv(
                "valideur;1;2026-12-07 08:00;2026-12-14 08:00;;anne",
                "pompier;4;demain;2026-12-14 08:00;;inconnu",
                "prefet;1;2026-12-07 08:00;2026-12-06 08:00;cle-absente;",
            ),
            now=clock.now(),
        )
    assert not report.ok
    by_line = {(e.line, e.message.split(" ")[0]) for e in report.errors}
    assert {
        (3, "rôle"),
        (3, "niveau"),
        (3, "debut"),
        (3, "aucun"),
        (4, "la"),
        (4, "aucun"),
    } == by_line
    async with db.read() as session:
        assert (await session.exec(select(Shift).where(col(Shift.id) > 0))).first() is None
    [refusal] = await _journal(db, "roster.import_refused")
    assert refusal["lines"] == [3, 3, 3, 3, 4, 4]
