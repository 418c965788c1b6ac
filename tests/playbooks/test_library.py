"""The shipped library of the Somme: every playbook passes and says the five things."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from playbooks import (
    LIBRARY_DIR,
    SCHEMA_PATH,
    check_completeness,
    check_directory,
    fill_templates,
    load_library,
    sample_values,
)
from playbooks.loader import playbook_files

EXPECTED_KINDS = {
    "crue",
    "submersion-marine",
    "tempete",
    "canicule",
    "accident-industriel",
    "transport-matieres-dangereuses",
    "pollution-atmospherique",
    "epidemie",
    "coupure-reseaux",
    "cyberattaque",
    "evenement-nucleaire",
}
LIBRARY = load_library()


def test_every_shipped_playbook_passes_the_check() -> None:
    assert check_directory(LIBRARY_DIR) == []


def test_the_library_covers_the_risks_of_the_somme() -> None:
    assert {playbook.kind for playbook in LIBRARY.values()} == EXPECTED_KINDS


def test_the_published_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", playbook_files(LIBRARY_DIR), ids=lambda path: path.name)
def test_every_file_points_editors_at_the_schema(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../schema/playbook.schema.json"


@pytest.mark.parametrize("key", sorted(LIBRARY))
@pytest.mark.parametrize("longest", [False, True], ids=["samples", "longest"])
def test_first_information_for_each_audience_passes_completeness(key: str, longest: bool) -> None:
    playbook = LIBRARY[key]
    result = fill_templates(
        playbook, values=sample_values(playbook, longest=longest), purpose="first_information"
    )
    assert result.ok, result.problems
    full = {m.audience: m for m in result.messages if m.channel is None}
    assert set(full) >= {"officials", "media", "public"}
    for message in full.values():
        assert check_completeness(title=message.title, body=message.body) == []


@pytest.mark.parametrize("key", sorted(LIBRARY))
def test_no_real_phone_number_is_shipped(key: str) -> None:
    for placeholder in LIBRARY[key].placeholders.values():
        if placeholder.type == "phone":
            # The range 03 53 01 xx xx is set aside for fiction; real ones are typed at crisis time.
            assert str(placeholder.sample).startswith("03 53 01")
