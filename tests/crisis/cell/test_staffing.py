"""Minimum staffing counts people, not answers: one person fills one seat of the cell."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from crisis.cell.paging import CellAcknowledgement, staffing_gaps

MINIMUM = {"communication": 1, "validator": 1}
AT = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def answer(person: str, role: str) -> CellAcknowledgement:
    return CellAcknowledgement(
        crisis_id=1, duty_role=role, person=person, name=person, at=AT, via="api", recorded_by="x"
    )


def test_one_person_holding_two_duty_roles_and_answering_both_does_not_staff_the_cell() -> None:
    acks = [answer("user:1", "communication"), answer("user:1", "validator")]
    assert sum(staffing_gaps(acks, minimum=MINIMUM).values()) == 1


def test_two_people_staff_the_cell_whatever_the_order_of_their_answers() -> None:
    # user:1 could fill either seat; user:2 only communication: user:1 must take validator.
    acks = [answer("user:1", "communication"), answer("user:1", "validator")]
    acks.append(answer("user:2", "communication"))
    for order in itertools.permutations(acks):
        assert staffing_gaps(list(order), minimum=MINIMUM) == {}


def test_a_role_nobody_answered_for_is_a_gap_of_its_full_size() -> None:
    acks = [answer("user:1", "communication"), answer("user:2", "communication")]
    assert staffing_gaps(acks, minimum={"communication": 1, "validator": 2}) == {"validator": 2}


@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.sampled_from(["communication", "validator", "prefect"])),
        max_size=10,
        unique=True,
    )
)
def test_seats_filled_never_exceed_the_number_of_distinct_people(
    answers: list[tuple[int, str]],
) -> None:
    minimum = {"communication": 2, "validator": 1, "prefect": 1}
    acks = [answer(f"user:{n}", role) for n, role in answers]
    filled = sum(minimum.values()) - sum(staffing_gaps(acks, minimum=minimum).values())
    assert filled <= len({n for n, _ in answers})
    for role, wanted in minimum.items():
        answered = len({n for n, r in answers if r == role})
        assert filled >= 0 and staffing_gaps(acks, minimum=minimum).get(role, 0) <= wanted
        if answered == 0:
            assert staffing_gaps(acks, minimum=minimum).get(role, 0) == wanted
