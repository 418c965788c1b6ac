from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from crisis.app.cli_playbooks import app
from tests.playbooks.support import line_number, playbook_text, write


def test_checking_the_shipped_library_exits_0_with_a_french_summary() -> None:
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "11 fiches réflexes valides"


def test_an_invalid_directory_exits_2_with_file_line_messages(tmp_path: Path) -> None:
    text = playbook_text().replace("role: prefect", "role: mayor")
    path = write(tmp_path, "essai.yaml", text)
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 2
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{path}:{line_number(text, 'role: mayor')}: ")
