from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from playbooks import check_completeness, find_elements
from playbooks.completeness import ELEMENTS

TITLE = "Crue de la Somme"
LABELLED = {
    "what": "Situation : la Somme déborde en aval d'Amiens.",
    "where": "Communes concernées : Abbeville, Amiens et Long",
    "instructions": "Consignes :\n- Restez chez vous et limitez vos déplacements.",
    "more_info": "Pour en savoir plus : https://www.somme.gouv.fr et ici Picardie.",
    "next_update": "Prochain point : lundi 27 janvier à 18 h.",
}


def codes(title: str, body: str) -> list[str]:
    return [problem.code for problem in check_completeness(title=title, body=body)]


def test_a_bulletin_with_the_five_labelled_lines_is_complete() -> None:
    assert codes(TITLE, "\n\n".join(LABELLED.values())) == []


@pytest.mark.parametrize("missing", ELEMENTS)
def test_without_one_labelled_line_exactly_that_element_is_missing(missing: str) -> None:
    body = "\n\n".join(line for element, line in LABELLED.items() if element != missing)
    title = "Communiqué de la préfecture" if missing == "what" else TITLE
    problems = check_completeness(title=title, body=body)
    assert [problem.code for problem in problems] == [f"missing_{missing}"]
    assert problems[0].message.startswith("Le message")


def test_an_empty_bulletin_misses_all_five_elements_in_a_stable_order() -> None:
    assert codes("", "") == [
        "missing_what",
        "missing_where",
        "missing_instructions",
        "missing_more_info",
        "missing_next_update",
    ]


def test_a_label_followed_by_nothing_does_not_count() -> None:
    body = "\n".join(LABELLED.values()).replace(
        "Consignes :\n- Restez chez vous et limitez vos déplacements.", "Consignes :"
    )
    assert codes(TITLE, body) == ["missing_instructions"]


def test_a_label_whose_content_is_on_the_next_line_counts() -> None:
    found = find_elements(title=TITLE, body="Consignes :\n\n- Restez chez vous.")
    assert found["instructions"] is not None
    assert found["instructions"].rule == "label"


def test_a_label_may_carry_a_parenthesis_before_the_colon() -> None:
    found = find_elements(title="", body="Situation (lundi 27 janvier à 14 h 30) : crue.")
    assert found["what"] is not None and found["what"].rule == "label"


def test_a_freehand_bulletin_is_recognised_by_its_cues() -> None:
    title = "Inondations dans la vallée de la Somme"
    body = (
        "La Somme a débordé cette nuit à Abbeville. Ne vous engagez pas sur les routes "
        "inondées et restez à l'écart des berges. Suivez l'évolution sur www.somme.gouv.fr "
        "et sur votre radio locale. Un nouveau point sera fait à 18 h."
    )
    found = find_elements(title=title, body=body)
    assert all(finding is not None and finding.rule == "cue" for finding in found.values())
    assert found["where"] is not None and found["where"].evidence == "vallée de"
    assert found["instructions"] is not None and found["instructions"].evidence.startswith("Ne")


def test_a_french_phone_number_tells_where_to_learn_more() -> None:
    found = find_elements(title="", body="Informez-vous au 03 53 01 00 00.")
    assert found["more_info"] is not None


def test_non_breaking_spaces_and_curly_apostrophes_are_understood() -> None:
    body = "\n".join(LABELLED.values()).replace(" :", "\u202f:").replace("'", "\u2019")
    assert codes(TITLE, body) == []


def test_a_time_is_not_mistaken_for_a_place() -> None:
    found = find_elements(title="", body="Le niveau monte depuis 14 h 30 et encore à 18 h.")
    assert found["where"] is None


def test_an_unrelated_line_with_a_colon_is_not_a_label() -> None:
    body = "Information des élus : réunion à la salle des fêtes."
    assert find_elements(title="", body=body)["more_info"] is None


single_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1
).filter(lambda text: text.strip() != "")


@given(single_line, single_line, single_line, single_line, single_line)
def test_any_content_under_the_five_labels_is_complete(
    what: str, where: str, todo: str, more: str, next_update: str
) -> None:
    body = (
        f"Situation : {what}\nCommunes concernées : {where}\nConsignes : {todo}\n"
        f"Pour en savoir plus : {more}\nProchain point : {next_update}"
    )
    assert codes("", body) == []


@given(st.text(), st.text())
def test_the_check_never_fails_and_reports_each_element_at_most_once(title: str, body: str) -> None:
    found = codes(title, body)
    assert len(found) == len(set(found))
    assert found == [f"missing_{e}" for e in ELEMENTS if f"missing_{e}" in found]
