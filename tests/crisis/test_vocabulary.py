"""Each closed set is one StrEnum, labelled once, and its values are never written bare."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from channels.kinds import ChannelKind
from crisis import labels
from crisis import vocabulary as v
from crisis.dispatch.outbox import DeliveryStatus

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ("crisis", "contacts", "playbooks")
# The API and web layer (crisis/app) and the dispatcher (crisis/dispatch) are being reworked on
# their own branches; they join the scan when they land.
NOT_YET = ("crisis/app", "crisis/dispatch")


def _enum_members(tree: ast.AST) -> set[int]:
    """ids of the constants that give a value to an enum member (`EXERCISE = "exercise"`)."""
    allowed: set[int] = set()
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                allowed.add(id(stmt.value))
    return allowed


def bare_literals(value: str) -> list[str]:
    found: list[str] = []
    for package in DOMAIN:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(NOT_YET):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            allowed = _enum_members(tree)
            found += [
                f"{relative}:{node.lineno}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and node.value == value
                and id(node) not in allowed
            ]
    return found


def test_the_scan_sees_a_bare_exercise_string() -> None:
    tree = ast.parse('AUDIENCE = "exercise"\nclass Mode:\n    EXERCISE = "exercise"\n')
    constants = [n for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert [id(c) in _enum_members(tree) for c in constants] == [False, True]


def test_no_bare_exercise_string_outside_its_enums_in_domain_code() -> None:
    assert bare_literals("exercise") == []


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (labels.AUDIENCE_LABELS, set(v.Audience)),
        (labels.BULLETIN_STATUS_LABELS, set(v.BulletinStatus)),
        (labels.DELIVERY_STATUS_LABELS, set(DeliveryStatus)),
        (labels.MSG_TYPE_LABELS, set(v.MsgType)),
        (labels.MODE_LABELS, set(v.CrisisMode)),
        (labels.STATUS_LABELS, set(v.CrisisStatus)),
        (labels.CHANNEL_LABELS, {*ChannelKind, v.PUBLIC_PAGE, v.PHONE}),
    ],
)
def test_each_label_table_labels_its_whole_vocabulary(
    table: dict[str, str], values: set[str]
) -> None:
    assert set(table) == values


def test_a_label_reads_by_the_plain_string_value() -> None:
    assert labels.AUDIENCE_LABELS["public"] == labels.AUDIENCE_LABELS[v.Audience.PUBLIC]
