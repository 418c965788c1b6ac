from __future__ import annotations

from pathlib import Path

import pytest

from playbooks import CheckError, PlaybookLibraryError, check_directory, load_library
from tests.playbooks.support import line_number, playbook_text, template, write


def only_error(directory: Path) -> CheckError:
    errors = check_directory(directory)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_minimal_valid_playbook_passes(tmp_path: Path) -> None:
    write(tmp_path, "essai.yaml", playbook_text())
    assert check_directory(tmp_path) == []


def test_a_check_error_prints_as_file_colon_line_colon_message() -> None:
    error = CheckError(file="library/crue.yaml", line=12, message="champ inconnu « x »")
    assert str(error) == "library/crue.yaml:12: champ inconnu « x »"


def test_malformed_yaml_is_reported_with_the_line_of_the_fault(tmp_path: Path) -> None:
    text = playbook_text().replace("  category: Met\n", "  category: [Met\n")
    path = write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.file == str(path)
    assert error.message.startswith("YAML mal formé")
    assert line_number(text, "category: [Met") <= error.line <= line_number(text, "event: Crue")


def test_a_french_colon_in_an_unquoted_list_item_is_caught_on_its_line(tmp_path: Path) -> None:
    text = playbook_text().replace(
        "      - Restez chez vous.",
        "      - N'allez pas chercher vos enfants : les enseignants s'en occupent.",
    )
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.line == line_number(text, "N'allez pas chercher")
    assert "placeholders.consignes.default[0]" in error.message


def test_a_key_written_twice_in_one_mapping_is_reported_on_the_second_line(
    tmp_path: Path,
) -> None:
    text = playbook_text().replace(
        "title: Fiche d'essai\n", "title: Fiche d'essai\ntitle: Autre titre\n"
    )
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.line == line_number(text, "title: Autre titre")
    assert "« title » en double" in error.message
    assert f"ligne {line_number(text, 'title: Fiche')}" in error.message


def test_two_files_with_the_same_playbook_key_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", playbook_text(key="crue", kind="crue"))
    second = write(tmp_path, "b.yaml", playbook_text(key="crue", kind="crue-lente"))
    error = only_error(tmp_path)
    assert error.file == str(second)
    assert error.line == 2
    assert "clé de fiche « crue »" in error.message
    assert f"{tmp_path / 'a.yaml'}:2" in error.message


def test_two_playbooks_for_the_same_crisis_kind_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", playbook_text(key="crue-a", kind="crue"))
    write(tmp_path, "b.yaml", playbook_text(key="crue-b", kind="crue"))
    error = only_error(tmp_path)
    assert error.line == 4
    assert "type d'événement « crue »" in error.message


def test_an_unknown_role_is_reported_on_the_line_of_the_role(tmp_path: Path) -> None:
    text = playbook_text().replace("role: prefect", "role: mayor")
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.line == line_number(text, "role: mayor")
    assert "checklist[0].role" in error.message
    assert "« mayor » invalide" in error.message


def test_a_missing_field_is_reported_on_the_line_of_its_mapping(tmp_path: Path) -> None:
    text = playbook_text().replace("    due_min: 0\n", "")
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.line == line_number(text, "- title: Ordonner la cellule")
    assert "champ obligatoire « due_min » manquant" in error.message


def test_an_unknown_field_is_reported_on_its_own_line(tmp_path: Path) -> None:
    text = playbook_text().replace("  urgency: Expected\n", "  urgency: Expected\n  colour: red\n")
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.line == line_number(text, "colour: red")
    assert "champ inconnu « colour »" in error.message


def test_a_cap_value_outside_the_cap_1_2_enumeration_is_refused(tmp_path: Path) -> None:
    text = playbook_text().replace("category: Met", "category: Weather")
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.line == line_number(text, "category: Weather")
    assert "Met" in error.message and "CBRNE" in error.message


def test_a_date_sample_without_time_zone_is_refused_on_its_line(tmp_path: Path) -> None:
    text = playbook_text().replace(
        '    sample: "2025-01-27T18:00:00+01:00"', '    sample: "2025-01-27T18:00:00"'
    )
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.line == line_number(text, 'sample: "2025-01-27T18:00:00"')


def test_a_placeholder_without_samples_nor_default_is_refused(tmp_path: Path) -> None:
    text = playbook_text(extra_placeholders="  heure:\n    type: time\n    label: Heure\n")
    write(tmp_path, "essai.yaml", text)
    errors = check_directory(tmp_path)
    assert [error.line for error in errors] == [line_number(text, "  heure:")] * 2
    messages = sorted(error.message for error in errors)
    assert messages == [
        "placeholders.heure : champ obligatoire « longest » manquant",
        "placeholders.heure : champ obligatoire « sample » manquant",
    ]


def test_an_unknown_placeholder_is_reported_on_the_body_line_that_uses_it(
    tmp_path: Path,
) -> None:
    body = "      Situation : {{ situation }}\n      Lieu : {{ lieu_dit }}"
    templates = (
        template("elus", "officials")
        + template("medias", "media")
        + template("public", "public", body=body)
    )
    text = playbook_text(templates=templates)
    write(tmp_path, "essai.yaml", text)
    errors = check_directory(tmp_path)
    unknown = [error for error in errors if "lieu_dit" in error.message]
    assert len(unknown) == 1
    assert unknown[0].line == line_number(text, "{{ lieu_dit }}")
    assert "champ inconnu « lieu_dit »" in unknown[0].message


def test_a_template_reaching_python_internals_is_refused(tmp_path: Path) -> None:
    body = "      {{ ''.__class__.__mro__ }}"
    templates = template("elus", "officials") + template("medias", "media")
    text = playbook_text(templates=templates + template("public", "public", body=body))
    write(tmp_path, "essai.yaml", text)
    messages = [error.message for error in check_directory(tmp_path)]
    assert any("accès à un attribut interdit" in message for message in messages)


def test_a_template_over_the_x_limit_with_the_longest_samples_is_refused(
    tmp_path: Path,
) -> None:
    long_post = "      " + "Crue de la Somme à {{ communes }}, restez chez vous. " * 5
    templates = (
        template("elus", "officials")
        + template("medias", "media")
        + template("public", "public")
        + template("public-x", "public", body=long_post, channel="x")
    )
    text = playbook_text(channels="[email, x]", templates=templates)
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.line == line_number(text, "- key: public-x")
    assert "trop long pour X" in error.message
    assert "(maximum 280)" in error.message


def test_without_a_variant_the_title_and_link_must_fit_a_short_channel(tmp_path: Path) -> None:
    text = playbook_text(channels="[email, x]").replace(
        'title: "Crue de la Somme : consignes"', f'title: "{"Crue " * 70}"', 1
    )
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert "trop long pour X" in error.message


def test_the_length_checker_is_pluggable_and_sees_every_channel_rendering(
    tmp_path: Path,
) -> None:
    write(tmp_path, "essai.yaml", playbook_text(channels="[email, telegram, sms]"))
    seen: list[tuple[str, str]] = []

    def strict(channel: str, text: str) -> list[str]:
        seen.append((channel, text))
        return ["refusé"] if channel == "email" else []

    errors = check_directory(tmp_path, length_checker=strict)
    assert {channel for channel, _ in seen} == {"email", "telegram", "sms"}
    assert len(errors) == 3  # one per first-information template, on e-mail only
    sms_texts = [text for channel, text in seen if channel == "sms"]
    assert all(text.startswith("Crue de la Somme") and "https://" in text for text in sms_texts)


def test_an_incomplete_first_information_is_refused_with_the_missing_element(
    tmp_path: Path,
) -> None:
    body = "      Situation : {{ situation }}\n      Communes concernées : {{ communes }}"
    templates = (
        template("elus", "officials")
        + template("medias", "media", body=body)
        + template("public", "public")
    )
    text = playbook_text(templates=templates)
    write(tmp_path, "essai.yaml", text)
    errors = check_directory(tmp_path)
    assert {error.line for error in errors} == {line_number(text, "- key: medias")}
    messages = " ".join(error.message for error in errors)
    assert "aucune consigne" in messages
    assert "où s'informer" in messages
    assert "prochain point" in messages


def test_each_audience_must_have_a_full_first_information(tmp_path: Path) -> None:
    templates = template("elus", "officials") + template("public", "public")
    write(tmp_path, "essai.yaml", playbook_text(templates=templates))
    error = only_error(tmp_path)
    assert "« media »" in error.message


def test_the_first_bulletin_must_be_due_within_the_hour(tmp_path: Path) -> None:
    text = playbook_text(due_min=90)
    write(tmp_path, "essai.yaml", text)
    error = only_error(tmp_path)
    assert error.line == line_number(text, "due_min: 90")
    assert "ES48" in error.message


def test_a_missing_or_empty_directory_is_an_error(tmp_path: Path) -> None:
    assert "introuvable" in only_error(tmp_path / "absent").message
    assert "aucune fiche" in only_error(tmp_path).message


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "liste.yaml", "- crue\n- tempete\n")
    assert "dictionnaire" in only_error(tmp_path).message


def test_load_library_refuses_an_invalid_directory_with_its_errors(tmp_path: Path) -> None:
    write(tmp_path, "essai.yaml", playbook_text(due_min=90))
    with pytest.raises(PlaybookLibraryError) as raised:
        load_library(tmp_path)
    assert len(raised.value.errors) == 1


def test_load_library_returns_valid_playbooks_by_key(tmp_path: Path) -> None:
    write(tmp_path, "essai.yaml", playbook_text())
    library = load_library(tmp_path)
    assert list(library) == ["essai"]
    assert library["essai"].placeholders["consignes"].sample == ("Restez chez vous.",)
