"""`tocsin users add / reset / disable`: one-time passwords, and closing an account."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.crisis.app.test_cli import tocsin, tocsin_here


@pytest.fixture(scope="module")
def users_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-users") / "tocsin.db"
    assert tocsin("db", "upgrade", db=path).returncode == 0
    return path


def _flags(db: Path, login: str) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT must_change_password, active FROM user_account WHERE login = ?", (login,)
        ).fetchone()
    return int(row[0]), int(row[1])


def test_a_user_added_from_the_command_line_must_change_the_password_printed(
    users_db: Path,
) -> None:
    added = tocsin_here("users", "add", "lea", "--role", "communicator", db=users_db)
    assert added.exit_code == 0 and "Mot de passe à usage unique" in added.stdout
    assert _flags(users_db, "lea") == (1, 1)


def test_reset_prints_a_new_one_time_password_and_disable_closes_the_account(
    users_db: Path,
) -> None:
    assert tocsin_here("users", "add", "hugo", "--role", "operator", db=users_db).exit_code == 0
    reset = tocsin_here("users", "reset", "hugo", db=users_db)
    assert reset.exit_code == 0 and "usage unique" in reset.stdout
    assert len(reset.stdout.strip().splitlines()[-1]) >= 12
    disabled = tocsin_here("users", "disable", "hugo", db=users_db)
    assert disabled.exit_code == 0 and "désactivé" in disabled.stdout
    assert _flags(users_db, "hugo") == (1, 0)
    assert tocsin_here("users", "disable", "personne", db=users_db).exit_code == 2
