"""The checklist as the crisis page shows it: a step waits for its trigger instead of being
late from the declaration, and counts its deadline from the trigger once it happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crisis.cell.checklist import ChecklistEntry, steps

DECLARED = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def _entry(position: int, action: str | None, offset: int) -> ChecklistEntry:
    return ChecklistEntry(
        crisis_id=1,
        position=position,
        title=f"Étape {position}",
        role="communicator",
        due_offset_min=offset,
        due_at=DECLARED + timedelta(minutes=offset),
        action=action,
        playbook_key="crue",
    )


def _shown(
    entries: list[ChecklistEntry], now: datetime, **seen: datetime | None
) -> list[tuple[str | None, datetime | None, str, bool]]:
    return [
        (s.waiting_for, s.due_at, s.counted_from, s.overdue)
        for s in steps(entries, triggered_at=seen, now=now)
    ]


def test_before_their_trigger_steps_wait_and_are_never_late() -> None:
    entries = [
        _entry(1, "activate_cod", 0),
        _entry(2, None, 10),
        _entry(3, "declare_cell_operational", 30),
        _entry(4, "publish_first_bulletin", 40),
    ]
    late = DECLARED + timedelta(hours=2)
    assert _shown(entries, late, order_cell=None, activate_cod=None) == [
        (None, DECLARED, "H", True),
        (None, DECLARED + timedelta(minutes=10), "H", True),
        ("l'ordre d'activer la cellule", None, "ordre de cellule", False),
        ("l'activation du COD", None, "COD", False),
    ]


def test_once_triggered_a_deadline_counts_from_the_trigger() -> None:
    cod = DECLARED + timedelta(minutes=50)
    entries = [_entry(4, "publish_first_bulletin", 40)]
    on_time = cod + timedelta(minutes=39)
    assert _shown(entries, on_time, activate_cod=cod) == [
        (None, cod + timedelta(minutes=40), "COD", False)
    ]
    assert _shown(entries, cod + timedelta(minutes=41), activate_cod=cod)[0][3] is True


def test_a_trigger_step_ticked_by_hand_counts_as_the_trigger() -> None:
    cod = _entry(1, "activate_cod", 0)
    cod.done_at = DECLARED + timedelta(minutes=5)
    entries = [cod, _entry(4, "publish_first_bulletin", 40)]
    shown = _shown(entries, DECLARED + timedelta(minutes=20), activate_cod=None)
    assert shown[1] == (None, DECLARED + timedelta(minutes=45), "COD", False)


def test_a_step_done_before_its_trigger_neither_waits_nor_is_late() -> None:
    step = _entry(3, "declare_cell_operational", 30)
    step.done_at = DECLARED + timedelta(minutes=3)
    assert _shown([step], DECLARED + timedelta(hours=3), order_cell=None) == [
        (None, None, "ordre de cellule", False)
    ]
