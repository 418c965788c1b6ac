from __future__ import annotations

from crisis.composer import MAX_NAMED_COMMUNES, named_communes


def test_a_few_communes_are_all_named() -> None:
    names = ["Abbeville", "Amiens", "Péronne"]
    assert named_communes(names) == names


def test_a_whole_departement_is_summarised_so_that_every_channel_can_carry_it() -> None:
    names = [f"Commune {i}" for i in range(771)]
    summary = named_communes(names)
    assert len(summary) == MAX_NAMED_COMMUNES // 2 + 1
    assert summary[-1] == f"{771 - MAX_NAMED_COMMUNES // 2} autres communes"
