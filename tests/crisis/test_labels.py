"""Every journal action written by the code has a French label for the timeline and the summary."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from crisis.labels import ACTION_LABELS

ROOT = Path(__file__).resolve().parents[2]
ACTION_CODE = re.compile(r"^[a-z]+\.[a-z_]+$")


def _journal_actions() -> set[str]:
    found: set[str] = set()
    for package in ("crisis", "contacts", "exercises"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.keyword) and node.arg == "action":
                    found.update(
                        leaf.value
                        for leaf in ast.walk(node.value)
                        if isinstance(leaf, ast.Constant)
                        and isinstance(leaf.value, str)
                        and ACTION_CODE.match(leaf.value)
                    )
    return found


def test_the_scan_finds_the_journal_actions_of_the_lifecycle_and_the_bulletins() -> None:
    actions = _journal_actions()
    assert {"crisis.declared", "bulletin.published", "checklist.unticked"} <= actions


def test_every_journal_action_has_a_french_label() -> None:
    missing = sorted(_journal_actions() - ACTION_LABELS.keys())
    assert missing == []
