from hypothesis import given
from hypothesis import strategies as st

from contacts.csvsource import FORMULA_STARTS, read_cell, spreadsheet_cell


@given(st.text())
def test_no_exported_cell_starts_like_a_formula_and_every_cell_reads_back(value: str) -> None:
    cell = spreadsheet_cell(value)
    assert not cell.startswith(FORMULA_STARTS)
    assert read_cell(cell) == value or (
        # A value that already looked escaped ("'=…") is the one ambiguity, as in spreadsheets.
        value.startswith("'") and value[1:].startswith(FORMULA_STARTS)
    )
