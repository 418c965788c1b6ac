"""How the suite itself is organised: the PostgreSQL run keeps every test that depends on it."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_only_the_root_conftest_reads_which_database_the_run_is_on() -> None:
    """The PostgreSQL run selects tests by their fixtures (tests/conftest.py); a test that read
    the variable itself could depend on PostgreSQL and still be left out of that run."""
    readers = sorted(
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path != Path(__file__).resolve()  # names the variable to look for it
        and any(
            isinstance(node, ast.Constant) and node.value == "TOCSIN_TEST_POSTGRES"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    )
    assert readers == ["conftest.py"]
