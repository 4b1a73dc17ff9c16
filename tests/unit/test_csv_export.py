"""The one CSV writer of every download: a byte-order mark for spreadsheet programs, and no cell that such a
program would run as a formula, whatever a settlement file or a note put in it."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from posrefund.entrypoints.csv_export import BOM, FORMULA_STARTS, ROWS_PER_CHUNK, csv_chunks, safe_cell


def test_a_formula_is_quoted_and_plain_text_is_left_alone() -> None:
    assert safe_cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert [safe_cell(v) for v in ("+1", "-2", "@SUM(A1)", "\tx", "\rx")] == ["'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx"]
    assert [safe_cell(v) for v in ("123", "张三", None, 42, "a=b")] == ["123", "张三", "", "42", "a=b"]


@given(st.lists(st.lists(st.text(max_size=12), min_size=2, max_size=2), max_size=ROWS_PER_CHUNK + 3))
def test_every_cell_read_back_is_safe_and_nothing_is_lost(rows: list[list[str]]) -> None:
    text = "".join(csv_chunks(["a", "b"], rows))
    assert text.startswith(BOM)
    back = list(csv.reader(io.StringIO(text[len(BOM) :], newline="")))
    assert back[0] == ["a", "b"]
    assert len(back) == len(rows) + 1
    for written, read in zip(rows, back[1:], strict=True):
        for cell, got in zip(written, read, strict=True):
            assert not got.startswith(FORMULA_STARTS)
            assert got == ("'" + cell if cell.startswith(FORMULA_STARTS) else cell)
