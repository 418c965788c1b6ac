from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from channels.limits import mastodon_length, sms_count, x_weighted_length


def test_latin_text_counts_one_per_character_on_x() -> None:
    assert x_weighted_length("Crue de la Somme à Abbeville") == 28


def test_any_link_counts_23_on_x_whatever_its_length() -> None:
    short = "Voir https://a.fr"
    long = "Voir https://www.somme.gouv.fr/Actions-de-l-Etat/Securite/alerte-crue-2026?x=1"
    assert x_weighted_length(short) == 5 + 23
    assert x_weighted_length(long) == 5 + 23


def test_a_bare_domain_counts_as_a_link_on_x() -> None:
    assert x_weighted_length("voir somme.gouv.fr.") == len("voir ") + 23 + 1


def test_cjk_characters_count_two_on_x() -> None:
    assert x_weighted_length("洪水警報") == 8


def test_an_emoji_sequence_counts_two_on_x_whatever_its_code_points() -> None:
    assert x_weighted_length("⚠️") == 2
    assert x_weighted_length("👍🏽") == 2
    assert x_weighted_length("👨‍👩‍👧‍👦") == 2
    assert x_weighted_length("🇫🇷") == 2


def test_decomposed_accents_are_normalised_before_counting() -> None:
    assert x_weighted_length("e\u0301vacuation") == x_weighted_length("évacuation") == 10


def test_punctuation_counts_one_inside_the_light_ranges_and_two_outside() -> None:
    # « » (U+00AB/BB) and – (U+2013) are light; … (U+2026) is outside every range
    assert x_weighted_length("« crue » – fin") == 14
    assert x_weighted_length("…") == 2


@given(st.text(alphabet=st.characters(max_codepoint=0x10F0), max_size=300))
def test_text_without_links_below_u10ff_counts_its_code_points(text: str) -> None:
    if "." in text or "://" in text:
        return
    assert x_weighted_length(text) >= len(text.replace("\r\n", "\n")) // 2


def test_mastodon_counts_links_as_23() -> None:
    assert mastodon_length("Lien https://example.org/" + "a" * 100) == 5 + 23


def test_plain_gsm7_fits_160_in_one_segment() -> None:
    count = sms_count("a" * 160)
    assert (count.encoding, count.units, count.segments) == ("GSM-7", 160, 1)
    assert sms_count("a" * 161).segments == 2
    assert sms_count("a" * 306).segments == 2
    assert sms_count("a" * 307).segments == 3


def test_gsm7_extension_characters_take_two_septets() -> None:
    assert sms_count("€" * 80).units == 160
    assert sms_count("€" * 80).segments == 1
    assert sms_count("€" * 81).segments == 2


def test_an_extension_character_is_never_split_across_segments() -> None:
    # 152 septets then a two-septet euro: it cannot start at 153, so it opens segment 2
    assert sms_count("a" * 152 + "€" + "a" * 150).segments == 2
    assert sms_count("a" * 152 + "€" + "a" * 152).segments == 3


def test_a_character_outside_gsm7_switches_to_ucs2() -> None:
    count = sms_count("Évacuation : ça monte")  # ç is not in GSM-7
    assert count.encoding == "UCS-2"
    assert sms_count("ç" * 70).segments == 1
    assert sms_count("ç" * 71).segments == 2
    assert sms_count("ç" * 134).segments == 2
    assert sms_count("ç" * 135).segments == 3


def test_an_emoji_takes_two_ucs2_units() -> None:
    assert sms_count("⚠" + "🌊" * 2).units == 5


@given(st.text(alphabet="abcdefghij €[]", max_size=1000))
def test_gsm7_segments_never_hold_more_than_153_septets(text: str) -> None:
    count = sms_count(text)
    if count.segments > 1:
        assert count.units <= count.segments * 153
        assert count.units > (count.segments - 1) * 153 - (count.segments - 1)
