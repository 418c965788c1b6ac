"""The cabinet's CIP figures and the numbers the CIP accepts, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crisis.cell.crises import RefusedInput
from crisis.cip import figures, numbers
from crisis.cip.calls import CipCall

AT = datetime(2026, 11, 28, 13, 50, tzinfo=UTC)


def _call(
    minute: int, wait: int | None, *, question: str = "Route coupée ?", **kw: object
) -> CipCall:
    received = AT + timedelta(minutes=minute)
    answered = received + timedelta(seconds=wait) if wait is not None else None
    values: dict[str, object] = {
        "crisis_id": 1,
        "received_at": received,
        "answered_at": answered,
        "topic": "roads",
        "question": question,
        "operator": "op1",
        "recorded_at": received,
    }
    return CipCall(**(values | kw))


def test_the_nearest_rank_percentile_takes_a_value_that_was_observed() -> None:
    assert figures.percentile([4, 1, 3, 2], 0.5) == 2
    assert figures.percentile([4, 1, 3, 2], 0.9) == 4
    assert figures.percentile([], 0.5) is None


def test_calls_are_counted_per_paris_hour_and_unanswered_ones_do_not_count_in_waiting_times() -> (
    None
):
    found = figures.of([_call(0, 20), _call(5, 60), _call(15, None), _call(20, 40)])
    assert found.per_hour == (("14 h", 2), ("15 h", 2))  # 13:50 UTC is 14 h 50 in Paris
    assert (found.wait_p50_s, found.wait_p90_s) == (40, 60)
    assert found.unanswered_calls == 1


def test_a_question_answered_from_the_faq_is_not_suggested_and_the_same_question_is_grouped() -> (
    None
):
    calls = [
        _call(0, 5, question="La D901 est-elle coupée ?", commune="80001"),
        _call(1, 5, question="la d901 est-elle coupée", commune="80021"),
        _call(2, 5, question="Eau potable ?", faq_id=3),
    ]
    (suggestion,) = figures.of(calls).suggestions
    assert suggestion.asked == 2 and suggestion.communes == ("80001", "80021")


def test_open_follow_ups_are_those_not_done_yet() -> None:
    calls = [
        _call(0, 5, follow_up=True, callback_number="+33612345678"),
        _call(1, 5, follow_up=True, callback_number="+33612345679", follow_up_done_at=AT),
        _call(2, 5),
    ]
    assert figures.of(calls).open_follow_ups == 1


@pytest.mark.parametrize(
    "text", ["0800 100 200", "03 22 97 80 80", "+33 6 12 34 56 78", "+262 262 20 30 40"]
)
def test_french_numbers_are_accepted_in_e164(text: str) -> None:
    assert numbers.french_number(text, code="number", what="le numéro").startswith("+")


@pytest.mark.parametrize("text", ["12345", "+44 20 7946 0958", "06 12", "numéro"])
def test_a_number_that_is_not_a_valid_french_one_is_refused(text: str) -> None:
    with pytest.raises(RefusedInput) as refused:
        numbers.french_number(text, code="number", what="le numéro")
    assert refused.value.code == "number_invalid"
