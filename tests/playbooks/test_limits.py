from __future__ import annotations

from playbooks.limits import default_length_checker, sms_segments, x_weighted_length


def test_x_counts_every_link_as_23_characters() -> None:
    url = "https://tocsin.somme.gouv.fr/public/bulletins/" + "a" * 80
    assert x_weighted_length(f"Crue {url}") == len("Crue ") + 23


def test_x_counts_emoji_twice_and_accented_letters_once() -> None:
    assert x_weighted_length("é") == 1
    assert x_weighted_length("⚠") == 2


def test_sms_segments_follow_gsm_and_ucs2_sizes() -> None:
    assert sms_segments("é" * 160) == 1  # é is in the GSM 7-bit alphabet
    assert sms_segments("a" * 161) == 2
    assert sms_segments("ê" * 70) == 1  # ê forces UCS-2
    assert sms_segments("ê" * 71) == 2


def test_the_default_checker_names_the_channel_and_its_maximum() -> None:
    assert default_length_checker("x", "a" * 280) == []
    (problem,) = default_length_checker("x", "a" * 281)
    assert problem == "trop long pour X : 281 caractères pondérés (maximum 280)"
    assert default_length_checker("mastodon", "a" * 501)
    assert default_length_checker("telegram", "a" * 4097)
    assert default_length_checker("sms", "a" * (153 * 3 + 1))
    assert default_length_checker("email", "a" * 100_000) == []
