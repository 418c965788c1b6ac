"""Splitting a long X text into a numbered thread, and rendering a bulletin that asks for one."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from channels.kinds import ChannelKind
from channels.limits import x_weighted_length
from channels.rendering import EXERCISE_BANNER, Problem, Rendering, render
from channels.x_thread import Unsplittable, split_thread, thread_words

LINK = "https://tocsin.somme.gouv.fr/public/bulletins/42"
SENTENCE = "La Somme déborde à Abbeville, évacuez les rues basses et rejoignez le gymnase. "
_NUMBER = re.compile(r" (\d+)/(\d+)$")


def _parts(result: tuple[str, ...] | Unsplittable) -> tuple[str, ...]:
    assert not isinstance(result, Unsplittable), result
    return result


def _chunks(parts: tuple[str, ...], head: str = "") -> list[str]:
    """Each part without its head line and its number."""
    chunks = []
    for part in parts:
        if head:
            assert part.startswith(head + "\n")
            part = part[len(head) + 1 :]
        chunks.append(_NUMBER.sub("", part))
    return chunks


_WORDS = st.sampled_from(
    [
        "crue",
        "évacuez",
        "Abbeville,",
        "rues.",
        "gymnase !",
        "18\u00a0h",
        "洪水",
        "🌊",
        "👩‍🚒",
        "https://www.somme.gouv.fr/Actualites/crue-de-la-somme-2026",
        "www.vigicrues.gouv.fr",
        "prefecture.fr/alerte",
        "Prochain point :",
        "«\u00a0Restez chez vous\u00a0»",
    ]
)
_GAPS = st.sampled_from([" ", " ", " ", "\n", "\n\n"])


@st.composite
def long_texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(_WORDS, min_size=1, max_size=400))
    gaps = draw(st.lists(_GAPS, min_size=len(words), max_size=len(words)))
    return "".join(gap + word for gap, word in zip(gaps, words, strict=True)).strip()


@given(long_texts(), st.booleans())
def test_every_part_fits_280_and_the_parts_rejoin_to_the_original_words(
    text: str, exercise: bool
) -> None:
    head = EXERCISE_BANNER if exercise else ""
    result = split_thread(text, head=head, max_parts=100)
    parts = _parts(result)
    assert all(x_weighted_length(part) <= 280 for part in parts)
    if len(parts) == 1:
        assert parts[0] == (f"{head}\n{text}" if head else text)
        return
    assert [_NUMBER.search(p).groups() for p in parts] == [  # type: ignore[union-attr]
        (str(n), str(len(parts))) for n in range(1, len(parts) + 1)
    ]
    chunks = _chunks(parts, head)
    assert thread_words(" ".join(chunks)) == thread_words(text)


@given(long_texts())
def test_a_url_is_never_cut_across_two_parts(text: str) -> None:
    parts = _parts(split_thread(text, max_parts=100))
    urls = re.findall(r"https?://\S+|www\.\S+", text)
    for url in urls:
        assert any(url in part for part in parts), url


def test_a_text_that_fits_is_one_post_without_number() -> None:
    assert split_thread("Crue de la Somme.") == ("Crue de la Somme.",)


def test_parts_end_at_a_sentence_when_one_falls_in_their_second_half() -> None:
    parts = _parts(split_thread(SENTENCE * 8))
    assert len(parts) == 3
    assert all(_NUMBER.sub("", part).endswith("gymnase.") for part in parts)


def test_the_number_counts_in_the_280() -> None:
    text = " ".join(["abcdefghi"] * 56)  # 559 characters: two posts of 280 with no number
    parts = _parts(split_thread(text))
    assert len(parts) == 3
    assert max(x_weighted_length(p) for p in parts) <= 280
    assert parts[0].endswith(" 1/3")


def test_a_tenth_part_reserves_room_for_two_digit_numbers() -> None:
    parts = _parts(split_thread(SENTENCE * 30, max_parts=10))
    assert len(parts) == 10
    assert parts[0].endswith(" 1/10") and parts[9].endswith(" 10/10")
    assert all(x_weighted_length(p) <= 280 for p in parts)


def test_more_parts_than_allowed_says_how_many_would_be_needed() -> None:
    result = split_thread(SENTENCE * 40, max_parts=10)
    assert isinstance(result, Unsplittable)
    assert result.code == "too_many_parts"
    assert result.parts > 10


def test_a_word_longer_than_a_post_is_never_cut() -> None:
    result = split_thread("Alerte " + "a" * 300 + " fin.")
    assert isinstance(result, Unsplittable)
    assert (result.code, result.word) == ("word_too_long", "a" * 300)


def _render(**options: object) -> Rendering | list[Problem]:
    values: dict[str, object] = {
        "kind": ChannelKind.X,
        "title": "Crue de la Somme",
        "body": SENTENCE * 6,
        "link": LINK,
        "thread": True,
    }
    values.update(options)
    return render(**values)  # type: ignore[arg-type]


def test_with_the_thread_option_x_carries_the_whole_text_in_numbered_parts() -> None:
    rendering = _render()
    assert isinstance(rendering, Rendering)
    assert len(rendering.parts) == 3
    assert rendering.parts[0].startswith("Crue de la Somme\n\nLa Somme déborde")
    assert rendering.parts[-1].endswith(f"En savoir plus : {LINK} 3/3")
    assert rendering.text == "\n\n".join(rendering.parts)
    assert not rendering.short_form


def test_an_exercise_thread_says_so_first_in_every_part() -> None:
    rendering = _render(exercise=True)
    assert isinstance(rendering, Rendering)
    assert rendering.parts and all(p.startswith(EXERCISE_BANNER + "\n") for p in rendering.parts)
    assert rendering.parts[0].startswith(f"{EXERCISE_BANNER}\nCrue de la Somme")


def test_an_update_keeps_its_prefix_at_the_head_of_part_one() -> None:
    rendering = _render(prefix="MISE À JOUR", exercise=True)
    assert isinstance(rendering, Rendering)
    assert rendering.parts[0].startswith(f"{EXERCISE_BANNER}\nMISE À JOUR : Crue de la Somme")


def test_with_the_option_a_short_text_stays_one_post() -> None:
    rendering = _render(body="Évacuez les rues basses.")
    assert isinstance(rendering, Rendering)
    assert rendering.parts == ()
    assert (
        rendering.text == f"Crue de la Somme\n\nÉvacuez les rues basses.\n\nEn savoir plus : {LINK}"
    )


def test_a_thread_of_more_than_ten_parts_is_refused_in_french() -> None:
    problems = _render(body=SENTENCE * 40)
    assert isinstance(problems, list)
    assert [p.code for p in problems] == ["too_many_parts"]
    assert "10 au plus" in problems[0].message and "raccourcissez" in problems[0].message


def test_without_the_option_a_long_x_text_is_refused_and_the_thread_is_suggested() -> None:
    problems = _render(thread=False, variant=SENTENCE * 4)
    assert isinstance(problems, list)
    assert [p.code for p in problems] == ["too_long"]
    assert "en fil" in problems[0].message


def test_the_option_changes_nothing_for_other_channels() -> None:
    with_option = _render(kind=ChannelKind.MASTODON)
    without = _render(kind=ChannelKind.MASTODON, thread=False)
    assert with_option == without
