"""What counts as a reply « OK », and the code that names a delivery."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crisis.bulletin.confirmations import personalise, reply_code
from crisis.replies import Keyword, parse


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("OK", None),
        ("ok", None),
        ("Ok.", None),
        ("OUI", None),
        ("  oui !", None),
        ("OK 4821", 4821),
        ("ok 4821", 4821),
        ("4821 OK merci", 4821),
        ("OK\u00a00042", 42),
    ],
)
def test_ok_or_oui_with_or_without_a_short_code_is_a_reply(text: str, code: int | None) -> None:
    assert parse(text) == Keyword(code)


@pytest.mark.parametrize(
    "text",
    ["", "KO", "ok mais je ne peux pas venir", "non", "OK 12 34", "OK 48210", "d'accord", "oki"],
)
def test_anything_else_is_not_a_reply(text: str) -> None:
    assert parse(text) is None


@given(st.integers(min_value=1, max_value=10**9))
def test_the_code_in_the_text_is_the_one_a_reply_names(delivery_id: int) -> None:
    text = personalise(
        "Répondez OK {code_reponse}", delivery_id=delivery_id, secret="s", base_url="https://t"
    )
    keyword = parse(text.removeprefix("Répondez "))
    assert keyword is not None and keyword.code == delivery_id % 10_000
    assert text.endswith(reply_code(delivery_id)) and len(reply_code(delivery_id)) == 4
