"""A playbook may carry a ready-made drill scenario: checked with file:line like the rest,
loaded as `ScenarioInject` values (the Somme flood playbook carries one)."""

from __future__ import annotations

from pathlib import Path

from playbooks import check_directory, load_library
from tests.playbooks.support import line_number, playbook_text, write

SCENARIO = """
scenario:
  - offset_min: 5
    audience: staff
    text: "La Somme déborde à Abbeville."
    expected_action: "Ordonner la cellule"
  - offset_min: 20
    audience: officials
    channel: sms
    text: "Le maire demande s'il faut évacuer l'école."
    expected_kind: first_officials_bulletin
    deadline_min: 45
"""


def test_a_scenario_is_loaded_in_order_with_its_expected_actions(tmp_path: Path) -> None:
    write(tmp_path, "essai.yaml", playbook_text() + SCENARIO)
    assert check_directory(tmp_path) == []
    [playbook] = load_library(tmp_path).values()
    first, second = playbook.scenario
    assert (first.offset_min, first.audience, first.expected_action) == (
        5,
        "staff",
        "Ordonner la cellule",
    )
    assert (second.channel, second.expected_kind, second.deadline_min) == (
        "sms",
        "first_officials_bulletin",
        45,
    )


def test_a_scenario_inject_for_the_public_account_channel_is_refused_on_its_line(
    tmp_path: Path,
) -> None:
    text = playbook_text() + SCENARIO.replace("channel: sms", "channel: x")
    write(tmp_path, "essai.yaml", text)
    [error] = check_directory(tmp_path)
    assert error.line == line_number(text, "channel: x") and "scenario[1].channel" in error.message


def test_a_deadline_without_an_expected_action_is_refused_on_its_line(tmp_path: Path) -> None:
    text = playbook_text() + SCENARIO.replace("    expected_kind: first_officials_bulletin\n", "")
    write(tmp_path, "essai.yaml", text)
    [error] = check_directory(tmp_path)
    assert error.line == line_number(text, "deadline_min: 45")
    assert "suppose une action attendue" in error.message


def test_injects_out_of_order_are_refused(tmp_path: Path) -> None:
    text = playbook_text() + SCENARIO.replace("offset_min: 20", "offset_min: 2")
    write(tmp_path, "essai.yaml", text)
    [error] = check_directory(tmp_path)
    assert error.line == line_number(text, "offset_min: 2") and "croissant" in error.message


def test_the_somme_flood_playbook_carries_a_ready_made_scenario() -> None:
    crue = load_library()["crue"]
    assert len(crue.scenario) >= 3
    assert {i.audience for i in crue.scenario} >= {"staff", "officials", "media"}
