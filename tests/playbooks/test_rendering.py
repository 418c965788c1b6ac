from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError, TemplateAssertionError, UndefinedError

from playbooks import Placeholder, TemplateRenderError, render_text
from playbooks.formatting import french_list
from playbooks.model import PlaceholderType
from playbooks.rendering import sandbox

PARIS = ZoneInfo("Europe/Paris")


def placeholder(name: str, kind: PlaceholderType, default: object | None = None) -> Placeholder:
    return Placeholder(name=name, type=kind, label=name, sample=None, longest=None, default=default)


PLACEHOLDERS = {
    p.name: p
    for p in (
        placeholder("communes", "communes"),
        placeholder("heure", "time"),
        placeholder("prochain_point", "next_update"),
        placeholder("situation", "text"),
        placeholder("consignes", "instructions", default=("Restez chez vous.",)),
        placeholder("numero_unique", "phone"),
        placeholder("lien", "url"),
    )
}


def render(source: str, *, html: bool = False, **values: object) -> str:
    return render_text(source, placeholders=PLACEHOLDERS, values=values, html=html)


def problems_of(source: str, **values: object) -> list[tuple[str, str]]:
    with pytest.raises(TemplateRenderError) as raised:
        render_text(source, placeholders=PLACEHOLDERS, values=values)
    return [(problem.code, problem.name) for problem in raised.value.problems]


def test_communes_read_as_a_french_list() -> None:
    assert render("{{ communes }}", communes=["Abbeville"]) == "Abbeville"
    assert render("{{ communes }}", communes=["Abbeville", "Amiens"]) == "Abbeville et Amiens"
    assert (
        render("{{ communes }}", communes=["Abbeville", "Amiens", "Péronne"])
        == "Abbeville, Amiens et Péronne"
    )


def test_times_are_shown_in_paris_time_in_french() -> None:
    winter = datetime(2025, 1, 27, 13, 30, tzinfo=UTC)
    summer = datetime(2025, 7, 1, 12, 5, tzinfo=UTC)
    assert render("{{ heure }}", heure=winter) == "lundi 27 janvier à 14 h 30"
    assert render("à {{ heure|heure }}", heure=summer) == "à 14 h 05"
    assert render("{{ heure|jour }}", heure=summer) == "mardi 1er juillet"
    full_hour = datetime(2025, 3, 30, 16, 0, tzinfo=UTC)  # the day clocks go forward
    assert render("{{ prochain_point }}", prochain_point=full_hour) == "dimanche 30 mars à 18 h"


def test_instructions_read_as_a_list_or_on_one_line() -> None:
    consignes = ["Restez chez vous.", "Écoutez la radio."]
    assert render("{{ consignes }}", consignes=consignes) == (
        "- Restez chez vous.\n- Écoutez la radio."
    )
    assert render("{{ consignes|en_ligne }}", consignes=consignes) == (
        "Restez chez vous ; Écoutez la radio."
    )


def test_a_missing_value_is_an_error_naming_the_placeholder() -> None:
    with pytest.raises(TemplateRenderError) as raised:
        render("Communes concernées : {{ communes }}")
    (problem,) = raised.value.problems
    assert problem.code == "missing_value"
    assert problem.name == "communes"
    assert "« communes »" in problem.message


@pytest.mark.parametrize("blank", ["", "   ", [], None])
def test_a_blank_value_counts_as_missing_never_as_an_empty_string(blank: object) -> None:
    assert problems_of("{{ situation }}", situation=blank) == [("missing_value", "situation")]


def test_a_placeholder_default_fills_a_missing_value() -> None:
    assert render("{{ consignes }}") == "- Restez chez vous."


def test_an_unknown_placeholder_is_an_error() -> None:
    assert problems_of("{{ lieu_dit }}") == [("unknown_placeholder", "lieu_dit")]


@pytest.mark.parametrize(
    ("source", "values"),
    [
        ("{{ communes }}", {"communes": "Amiens"}),
        ("{{ heure }}", {"heure": "14 h 30"}),
        ("{{ heure }}", {"heure": datetime(2025, 1, 27, 14, 30)}),  # naive
        ("{{ numero_unique }}", {"numero_unique": "appelez la mairie"}),
        ("{{ lien }}", {"lien": "javascript:alert(1)"}),
        ("{{ situation }}", {"situation": 42}),
    ],
)
def test_a_value_of_the_wrong_type_is_an_error(source: str, values: dict[str, object]) -> None:
    codes = [code for code, _ in problems_of(source, **values)]
    assert codes == ["wrong_type"]


def test_a_filter_applied_to_the_wrong_type_is_refused_before_rendering() -> None:
    assert problems_of("{{ communes|heure }}", communes=["Amiens"]) == [("wrong_type", "communes")]


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of("{{ situation }} {{ communes }} {{ inconnu }}", communes="Amiens")
    assert sorted(problems) == [
        ("missing_value", "situation"),
        ("unknown_placeholder", "inconnu"),
        ("wrong_type", "communes"),
    ]


def test_loops_over_a_list_with_loop_counters_are_allowed() -> None:
    source = "{% for c in communes %}{{ loop.index }}. {{ c }}\n{% endfor %}"
    assert render(source, communes=["Amiens", "Albert"]) == "1. Amiens\n2. Albert"


def test_html_rendering_escapes_values_and_text_rendering_keeps_them() -> None:
    value = "Digue rompue <script>alert(1)</script> & routes coupées"
    html = render("<p>{{ situation }}</p>", html=True, situation=value)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html
    assert render("{{ situation }}", situation=value) == value


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__.os }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ config.items() }}",
        "{{ range(10) }}",
        "{{ situation.__class__ }}",
        "{{ situation|attr('__class__') }}",
        "{{ communes[0] }}",
        "{{ communes.pop() }}",
        "{{ situation.format(situation) }}",
        "{% set x = situation %}{{ x.upper() }}",
        "{% include '/etc/passwd' %}",
        "{% extends 'base.html' %}",
        "{% macro m() %}{% endmacro %}{{ m() }}",
        "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ situation|map(attribute='__class__')|list }}",
    ],
)
def test_sandbox_escapes_are_refused_before_anything_is_rendered(source: str) -> None:
    with pytest.raises(TemplateRenderError) as raised:
        render(source, situation="La Somme déborde.", communes=["Amiens"])
    assert raised.value.problems
    assert {problem.code for problem in raised.value.problems} <= {
        "forbidden",
        "unknown_placeholder",
        "syntax_error",
    }


@pytest.mark.parametrize(
    "source",
    [
        "{{ value.__class__ }}",
        "{{ value.__class__.__mro__ }}",
        "{{ value.upper() }}",
        "{{ value|attr('__class__') }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ range(3)|list }}",
    ],
)
def test_the_sandbox_itself_refuses_internals_without_the_analysis(source: str) -> None:
    # Refused at compile time (filter removed) or at render time (attribute, global, call).
    with pytest.raises((SecurityError, UndefinedError, TemplateAssertionError)):
        sandbox().from_string(source).render(value="texte")


@given(st.text(min_size=1).filter(str.strip))
def test_a_value_is_never_interpreted_as_template_code(value: str) -> None:
    assert render("{{ situation }}", situation=value) == value.strip()


@given(st.lists(st.text(alphabet="abcdefghéèçàAÉ- '", min_size=1).filter(str.strip), min_size=2))
def test_a_french_list_names_every_commune_and_ends_with_et(names: list[str]) -> None:
    rendered = french_list(names)
    assert rendered.endswith(f" et {names[-1].strip()}")
    assert rendered.count(", ") >= len(names) - 2
