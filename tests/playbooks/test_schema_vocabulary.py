"""The playbook schema's enumerations are the domain's vocabularies.

`playbooks/` may not import `crisis/` (it is below it), so the schema (a hand-written, documented
JSON file that editors and `tocsin playbooks check` read) is checked here against the enums
rather than generated from them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crisis.actors import Role
from crisis.bulletin.render import BULLETIN_CHANNELS
from crisis.vocabulary import CHOSEN_AUDIENCES
from playbooks import model

SCHEMA = Path(model.__file__).parent / "schema" / "playbook.schema.json"


def _enum(name: str) -> list[Any]:
    values: list[Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))["$defs"][name]["enum"]
    return values


@pytest.mark.parametrize(
    ("definition", "vocabulary", "literal"),
    [
        ("audience", CHOSEN_AUDIENCES, model.AUDIENCES),
        ("channel", BULLETIN_CHANNELS, model.CHANNELS),
        ("role", tuple(Role), model.ROLES),
    ],
)
def test_the_schema_enumerates_exactly_the_domain_vocabulary(
    definition: str, vocabulary: tuple[str, ...], literal: tuple[str, ...]
) -> None:
    assert sorted(_enum(definition)) == sorted(vocabulary) == sorted(literal)
