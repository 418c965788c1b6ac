from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.kinds import ChannelKind
from channels.limits import x_weighted_length
from channels.rendering import EXERCISE_BANNER, Problem, Rendering, RenderLimits, render

LINK = "https://tocsin.somme.gouv.fr/public/bulletins/42"
BODY = (
    "Une crue de la Somme est en cours à Abbeville. Évacuez les rues basses, "
    "rejoignez le gymnase municipal. Prochain point à 18 h."
)


def _ok(result: Rendering | list[Problem]) -> Rendering:
    assert isinstance(result, Rendering), result
    return result


def _problems(result: Rendering | list[Problem]) -> list[Problem]:
    assert isinstance(result, list), result
    return result


@pytest.mark.parametrize("kind", [ChannelKind.X, ChannelKind.SMS])
def test_a_short_channel_without_variant_gets_the_title_and_the_link(kind: ChannelKind) -> None:
    rendering = _ok(render(kind=kind, title="Crue de la Somme", body=BODY * 10, link=LINK))
    assert rendering.text == f"Crue de la Somme\n{LINK}"
    assert rendering.short_form
    assert "Évacuez" not in rendering.text  # the body is never cut into the short form


def test_a_variant_replaces_the_short_form() -> None:
    rendering = _ok(
        render(kind=ChannelKind.X, title="Crue", body=BODY, link=LINK, variant="Évacuez.")
    )
    assert rendering.text == "Évacuez."


def test_a_variant_too_long_for_x_is_refused_with_its_weighted_count() -> None:
    problems = _problems(
        render(kind=ChannelKind.X, title="Crue", body=BODY, link=LINK, variant="洪" * 141)
    )
    assert [p.code for p in problems] == ["too_long"]
    assert "282" in problems[0].message and "280" in problems[0].message


def test_sms_over_the_configured_segments_is_refused() -> None:
    problems = _problems(
        render(
            kind=ChannelKind.SMS,
            title="Crue",
            body=BODY,
            link=LINK,
            variant="a" * 200,
            limits=RenderLimits(sms_max_segments=1),
        )
    )
    assert problems[0].code == "too_many_segments"
    assert "2 segments" in problems[0].message


@pytest.mark.parametrize("kind", list(ChannelKind))
def test_every_exercise_rendering_starts_with_the_banner(kind: ChannelKind) -> None:
    rendering = _ok(render(kind=kind, title="Crue", body=BODY, link=LINK, exercise=True))
    assert rendering.text.startswith(EXERCISE_BANNER)
    if kind is ChannelKind.EMAIL:
        assert rendering.subject.startswith(EXERCISE_BANNER)


def test_an_exercise_variant_still_starts_with_the_banner() -> None:
    rendering = _ok(
        render(kind=ChannelKind.SMS, title="T", body=BODY, link=LINK, variant="v", exercise=True)
    )
    assert rendering.text == f"{EXERCISE_BANNER}\nv"


def test_the_prefix_goes_before_the_title() -> None:
    rendering = _ok(
        render(kind=ChannelKind.TELEGRAM, title="Crue", body=BODY, link=LINK, prefix="MISE À JOUR")
    )
    assert rendering.text.startswith("MISE À JOUR : Crue\n\n")
    assert rendering.text.endswith(f"En savoir plus : {LINK}")


def test_email_has_a_subject_and_an_escaped_html_part() -> None:
    rendering = _ok(
        render(kind=ChannelKind.EMAIL, title="Crue <Somme>", body="a < b & c", link=LINK)
    )
    assert rendering.subject == "Crue <Somme>"
    assert rendering.html is not None
    assert "a &lt; b &amp; c" in rendering.html
    assert "<Somme>" not in rendering.html


def test_an_email_without_title_is_refused() -> None:
    problems = _problems(render(kind=ChannelKind.EMAIL, title="  ", body=BODY, link=LINK))
    assert [p.code for p in problems] == ["title_required"]
    assert problems[0].message == "Le titre est obligatoire."


def test_telegram_over_4096_characters_is_refused() -> None:
    problems = _problems(
        render(kind=ChannelKind.TELEGRAM, title="Crue", body="x" * 4100, link=LINK)
    )
    assert problems[0].code == "too_long"


def test_mastodon_falls_back_to_title_and_link_when_the_body_does_not_fit() -> None:
    rendering = _ok(render(kind=ChannelKind.MASTODON, title="Crue", body="x" * 600, link=LINK))
    assert rendering.short_form
    assert rendering.text == f"Crue\n\nEn savoir plus : {LINK}"


@given(
    title=st.text(min_size=1, max_size=400).filter(
        lambda t: t.strip() and "\n" not in t and "\r" not in t
    ),
    body=st.text(min_size=1, max_size=2000).filter(str.strip),
)
def test_an_x_rendering_is_either_within_280_or_a_problem(title: str, body: str) -> None:
    result = render(kind=ChannelKind.X, title=title, body=body, link=LINK)
    if isinstance(result, Rendering):
        assert x_weighted_length(result.text) <= 280
        assert result.text == f"{title.strip()}\n{LINK}"  # the body is never cut into it
    else:
        assert result and all(p.message for p in result)
