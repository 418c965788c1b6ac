"""The operators' debrief after the close: what a debrief's two texts may be."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crisis.cell.crises import RefusedInput
from crisis.cip import debrief, report
from crisis.cip.debrief import CipDebrief


def test_a_debrief_keeps_its_two_texts_stripped_and_one_of_them_may_be_empty() -> None:
    assert debrief.cleaned("  Un appelant en panique.  ", None) == ("Un appelant en panique.", "")
    assert debrief.cleaned("", "Un casque de plus") == ("", "Un casque de plus")


def test_a_debrief_with_nothing_written_is_refused_in_french() -> None:
    with pytest.raises(RefusedInput) as refused:
        debrief.cleaned("   ", "")
    assert refused.value.code == "debrief_empty"
    assert "Débriefing vide" in refused.value.message


def test_a_debrief_longer_than_its_limit_is_refused_naming_the_field() -> None:
    with pytest.raises(RefusedInput) as refused:
        debrief.cleaned("ok", "x" * (debrief.DEBRIEF_MAX + 1))
    assert refused.value.code == "debrief_too_long"
    assert "« Besoins pour la prochaine fois » est trop long" in refused.value.message
    assert debrief.cleaned("x" * debrief.DEBRIEF_MAX, "") == ("x" * debrief.DEBRIEF_MAX, "")


def test_the_cip_report_line_of_a_debrief_names_both_texts_and_a_dash_for_an_empty_one() -> None:
    written = CipDebrief(
        crisis_id=1,
        user_id=2,
        name="Op Un",
        hard_calls="Un appelant en panique",
        needs="",
        written_at=datetime(2026, 11, 28, 18, 0, tzinfo=UTC),
    )
    assert report.debrief_text(written) == (
        "Appels difficiles : Un appelant en panique — Besoins pour la prochaine fois : —"
    )
