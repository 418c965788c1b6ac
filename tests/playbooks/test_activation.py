from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from playbooks import check_completeness, checklist_items, fill_templates, load_library
from playbooks.loader import load_file
from tests.playbooks.support import playbook_text, write

ACTIVATED = datetime(2025, 1, 27, 13, 5, tzinfo=UTC)
CRUE = load_library()["crue"]


def crisis_values() -> dict[str, object]:
    return {
        "situation": "La Somme est en crue entre Amiens et Abbeville.",
        "heure": datetime(2025, 1, 27, 13, 30, tzinfo=UTC),
        "communes": ["Abbeville", "Amiens", "Long"],
        "lien": "https://tocsin.somme.gouv.fr/public/crises/42",
        "prochain_point": datetime(2025, 1, 27, 17, 0, tzinfo=UTC),
        "telephone_elus": "03 53 01 00 10",
        "contact_presse": "03 53 01 00 20",
        "numero_unique": "03 53 01 00 00",
    }


def test_checklist_items_are_due_at_activation_plus_their_offset() -> None:
    crue = CRUE
    items = checklist_items(crue, activated_at=ACTIVATED)
    assert [item.position for item in items] == list(range(1, len(crue.checklist) + 1))
    assert all(item.due_at == ACTIVATED + timedelta(minutes=item.due_offset_min) for item in items)
    assert [item.due_at for item in items] == sorted(item.due_at for item in items)
    publish = next(item for item in items if item.action == "publish_first_bulletin")
    assert publish.role == "communicator"
    assert publish.due_at <= ACTIVATED + timedelta(hours=1)
    assert {item.playbook_key for item in items} == {"crue"}


def test_a_naive_activation_instant_is_refused() -> None:
    crue = CRUE
    with pytest.raises(ValueError, match="timezone"):
        checklist_items(crue, activated_at=datetime(2025, 1, 27, 14, 5))


def test_a_later_edit_of_the_playbook_file_does_not_change_copied_items(tmp_path: Path) -> None:
    path = write(tmp_path, "essai.yaml", playbook_text())
    playbook = load_file(path).playbook
    assert playbook is not None
    copied = checklist_items(playbook, activated_at=ACTIVATED)
    before = [(item.title, item.due_at) for item in copied]

    path.write_text(
        playbook_text(due_min=45).replace("Ordonner la cellule", "Autre étape"), encoding="utf-8"
    )
    edited = load_file(path).playbook
    assert edited is not None
    assert [(item.title, item.due_at) for item in copied] == before
    assert [item.title for item in checklist_items(edited, activated_at=ACTIVATED)] == [
        "Autre étape",
        "Publier la première information",
    ]


def test_the_templates_are_filled_from_the_crisis_per_audience_and_channel() -> None:
    crue = CRUE
    result = fill_templates(crue, values=crisis_values(), purpose="first_information")
    assert result.ok
    by_target = {(m.audience, m.channel): m for m in result.messages}
    assert set(by_target) == {
        ("officials", None),
        ("media", None),
        ("public", None),
        ("public", "x"),
        ("public", "sms"),
    }
    public = by_target[("public", None)]
    assert "Communes concernées : Abbeville, Amiens et Long" in public.body
    assert "Situation (lundi 27 janvier à 14 h 30)" in public.body
    assert "Prochain point : lundi 27 janvier à 18 h." in public.body
    assert "N'allez pas chercher vos enfants" in public.body  # the pre-validated default
    for message in result.messages:
        if message.channel is None:
            assert check_completeness(title=message.title, body=message.body) == []


def test_missing_crisis_values_are_listed_and_nothing_is_filled() -> None:
    crue = CRUE
    values = crisis_values()
    del values["communes"]
    values["prochain_point"] = ""
    result = fill_templates(crue, values=values, audience="public")
    assert not result.ok
    assert result.messages == ()
    assert set(result.missing) == {"communes", "prochain_point"}


def test_a_crisis_value_can_replace_the_default_instructions() -> None:
    crue = CRUE
    values = crisis_values() | {"consignes": ["Évacuez la rue de la Digue avant 20 h."]}
    result = fill_templates(crue, values=values, audience="public", purpose="first_information")
    full = next(message for message in result.messages if message.channel is None)
    assert "Consignes :\n- Évacuez la rue de la Digue avant 20 h." in full.body
    assert "N'allez pas chercher" not in full.body
