"""A settlement file is trusted only whole: its summary or footer must be there and must agree with its lines.

A bill cut short (a download broken off, a copy truncated) loses its summary, which every format ends with; a
line cut short has fewer fields than the header. Either refuses the whole file, naming the line, as does a
summary whose totals its lines do not add up to: reconciling part of a day as if it were the day would report
every missing line as a refund the channel never made.
"""

from __future__ import annotations

from collections.abc import Iterator

from posrefund.adapters.settlement.blocks import LineBlock
from posrefund.adapters.settlement.model import BadLine, ParsedLine, Tally
from posrefund.domain.errors import Invalid
from posrefund.domain.money import format_yuan


def checked(items: Iterator[ParsedLine | LineBlock], tally: Tally) -> Iterator[ParsedLine | LineBlock]:
    """Every parsed line, passed on as it comes; once the last is read, the file is refused (``Invalid``, so the
    import's transaction changes nothing) when it ends without its summary (``recon.file_truncated``), has a
    line cut short (``recon.file_line_cut``), or its summary's totals differ from its lines'
    (``recon.file_totals_mismatch``). With unreadable lines only the count of lines can be checked: an
    unreadable amount adds up to nothing."""
    data = bad = last = 0
    cut: BadLine | None = None
    for item in items:
        if isinstance(item, LineBlock):
            data, bad = data + len(item), bad + len(item.bad)
            last = item.last_line_no() or last
            cut = cut or next((line for line in item.bad if line.cut_short), None)
            yield item
            continue
        data += 1
        last = item.line_no
        if isinstance(item, BadLine):
            bad += 1
            cut = cut or (item if item.cut_short else None)
        yield item
    if tally.summary and not tally.summary_line:
        raise Invalid("recon.file_truncated", line=max(last, 1), summary=tally.summary)
    if cut is not None:
        raise Invalid("recon.file_line_cut", line=cut.line_no, detail=cut.reason)
    counted = dict(tally.counted)
    if tally.grand_count:
        counted[tally.grand_count] = data
    names = [tally.grand_count] if bad and tally.grand_count in tally.claimed else [] if bad else list(tally.claimed)
    for name in names:
        claimed, lines = tally.claimed[name], counted.get(name, 0)
        if claimed not in (lines, tally.also.get(name, lines)):
            raise Invalid(
                "recon.file_totals_mismatch",
                line=tally.summary_line,
                total=name,
                file=_shown(tally, name, claimed),
                lines=_shown(tally, name, lines),
            )


def _shown(tally: Tally, name: str, value: int) -> str:
    """A count as it is, an amount in yuan with two decimals (as finance reads the file)."""
    return str(value) if name in tally.counts else format_yuan(value)
