"""A settlement file read both ways — line by line, and in blocks whose plain lines polars clears — must come to
the same lines, bad lines and summary tally: the check both block readers' tests make."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from posrefund.adapters.settlement.blocks import LineBlock, line_columns
from posrefund.adapters.settlement.model import BadLine, ParsedLine, SettlementLine, Tally


def same_both_ways(
    expected: list[ParsedLine], expected_tally: Tally, read: Iterable[ParsedLine | LineBlock], tally: Tally
) -> tuple[int, int]:
    """Assert the block reading ``read`` (into ``tally``) gave what the line reading gave; how many lines the
    blocks cleared and how many came one at a time."""
    frames: list[pl.DataFrame] = []
    lines: list[SettlementLine] = []
    bad: list[BadLine] = []
    for item in read:
        if isinstance(item, LineBlock):
            frames.append(item.frame)
            lines += item.lines
            bad += item.bad
        elif isinstance(item, BadLine):
            bad.append(item)
        else:
            lines.append(item)
    got = pl.concat([*frames, line_columns(lines)]).sort("line_no")
    good = [item for item in expected if isinstance(item, SettlementLine)]
    assert got.to_dicts() == line_columns(good).to_dicts()
    assert sorted(bad, key=lambda line: line.line_no) == [item for item in expected if isinstance(item, BadLine)]
    assert (tally.claimed, tally.counted, tally.also, tally.summary_line, tally.summary) == (
        expected_tally.claimed,
        expected_tally.counted,
        expected_tally.also,
        expected_tally.summary_line,
        expected_tally.summary,
    )
    return sum(frame.height for frame in frames), len(lines)
