"""Reading a bill's transaction table as columns, a few megabytes of the file at a time.

Why: reading a line in Python — splitting it, a dataclass of twenty fields, the card-data scan of nine of them,
the totals — costs some 30 µs; a million-line bill spent half a minute there before the database saw a row. Here
polars reads a whole block of lines at once and **clears** the plain ones: the line is CSV without quotes with the
header's number of fields, every amount and the time in their plain form, no field that could hold card data.
Anything it is not sure of — a quote, a control character, an amount with a currency sign, a time of another
form, a field that might hold a card number, a line that does not decode, a footer or comment line — is read by
the format's own Python reading (the definition, a ``LineTable``: ``reading.NamedTable`` with the bill's
``line_of`` for WeChat, ``card.CardTable`` for an acquirer's file in its mapping), with the same reasons, totals
and screening as before. So the block holds the cleared lines as columns (``frame``, the staged columns, see
``LINE_COLUMNS``) and the others as ``SettlementLine`` / ``BadLine`` items; staging writes both in the file's
order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

import polars as pl

from posrefund.adapters.settlement.model import BadLine, ParsedLine, SettlementLine, line_key
from posrefund.adapters.settlement.reading import SHANGHAI, BinarySource, open_binary, screen
from posrefund.domain.pii import CARD_PREFIX

BLOCK_BYTES = 4 << 20
_BOM = b"\xef\xbb\xbf"
# Characters a cleared line never holds: a quote (CSV quoting), control characters and whitespace other than
# the space and the tab (Python's ``str.strip`` and polars' differ on those; the space and tab they agree on).
_PLAIN_LINE = '^[^"\\x00-\\x08\\x0a-\\x1f\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]*$'


@dataclass(frozen=True)
class LineBlock:
    """Consecutive lines of one file: the ones read as columns (``frame``) and the ones read one at a time
    (``lines``, ``bad``). ``len()`` is how many lines it holds (the service stages by lines)."""

    frame: pl.DataFrame
    lines: list[SettlementLine] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)

    def __len__(self) -> int:
        return self.frame.height + len(self.lines) + len(self.bad)

    def last_line_no(self) -> int:
        numbers = [line.line_no for line in self.lines[-1:]] + [line.line_no for line in self.bad[-1:]]
        if self.frame.height:
            numbers.append(int(self.frame["line_no"].max()))  # type: ignore[arg-type]
        return max(numbers, default=0)


# A settlement line as a row of a block's frame: its fields, its time as the wall clock in Shanghai, the settled
# amount resolved (``amount_fen`` where the channel settles the amount itself), its key (``model.line_key``).
LINE_COLUMNS: dict[str, pl.DataType] = {
    "line_no": pl.Int64(),
    "kind": pl.String(),
    "occurred_local": pl.Datetime("us"),
    "amount_fen": pl.Int64(),
    "fee_fen": pl.Int64(),
    "settled_fen": pl.Int64(),
    **{
        name: pl.String()
        for name in (
            "currency",
            "merchant_no",
            "terminal_no",
            "voucher_no",
            "rrn",
            "channel_trade_no",
            "merchant_order_no",
            "channel_refund_no",
            "merchant_refund_no",
            "refund_status",
            "payer_masked",
            "batch_no",
            "card_type",
            "raw_hash",
            "line_key",
        )
    },
}


def cleared(frame: pl.DataFrame, **blank: str) -> pl.DataFrame:
    """A format's cleared lines as ``i`` and ``LINE_COLUMNS`` but ``raw_hash`` (the block reader adds it), in
    their order; ``blank`` names the columns the format does not have, each given as that text."""
    return frame.select(
        "i",
        *(pl.lit(blank[name]).alias(name) if name in blank else name for name in LINE_COLUMNS if name != "raw_hash"),
    )


def line_columns(lines: list[SettlementLine]) -> pl.DataFrame:
    """Lines read one at a time, as a frame of ``LINE_COLUMNS``."""
    rows = [
        (
            line.line_no,
            line.kind,
            line.occurred_at.astimezone(SHANGHAI).replace(tzinfo=None),
            line.amount_fen,
            line.fee_fen,
            line.amount_fen if line.settled_fen is None else line.settled_fen,
            line.currency,
            line.merchant_no,
            line.terminal_no,
            line.voucher_no,
            line.rrn,
            line.channel_trade_no,
            line.merchant_order_no,
            line.channel_refund_no,
            line.merchant_refund_no,
            line.refund_status,
            line.payer_masked,
            line.batch_no,
            line.card_type,
            line.raw_hash,
            line_key(line),
        )
        for line in lines
    ]
    return pl.DataFrame(rows, schema=LINE_COLUMNS, orient="row")


# What a format reads of a block of table lines (``line_no``, ``raw``, ``text``; every line inside the table, none
# of them blank or set aside): the lines it clears, as staged columns, adding their totals to the file's tally.
ClearLines = Callable[[pl.DataFrame, dict[str, int]], pl.DataFrame]


class LineTable(Protocol):
    """A format's reading of its file one physical line at a time (``reading.NamedTable`` for the wallet bills,
    ``card.CardTable`` for the acquirers' files): the definition the block reader falls back on."""

    @property
    def columns(self) -> dict[str, int]:
        """The header's columns as the format names them; empty until the header is read."""
        ...

    @property
    def width(self) -> int:
        """How many fields the header has (a data line with another count is not read as columns)."""
        ...

    def read(self, line_no: int, raw: bytes, text: str | None, encoding: str) -> ParsedLine | None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True)
class TableFormat:
    """What the block reader needs of a format: its one-line-at-a-time reading (the definition), the bytes a
    line after the table may start with (the table ends at the first such line; from there on every line is read
    one at a time; None: the table runs to the end of the file), its column reading, the character between its
    fields, and the starts of lines inside the table that are no transaction (an acquirer's 合计 footer or a
    ``#`` comment, after any spaces): those are read one at a time."""

    table: LineTable
    ends_with: bytes | None
    clear: ClearLines
    delimiter: str = ","
    aside: tuple[str, ...] = ()


def read_blocks(
    source: BinarySource, encoding: str, fmt: TableFormat, block_bytes: int = BLOCK_BYTES
) -> Iterator[ParsedLine | LineBlock]:
    """The bill's lines, screened for card data, as ``read_named_table`` + ``screened`` give them, but a block of
    table lines at a time. A file not in UTF-8 is read one line at a time throughout."""
    table = fmt.table
    ended = encoding.lower().replace("-", "").replace("_", "") not in ("utf8", "utf8sig")
    with open_binary(source) as fh:
        for first, raws in _chunks(fh, block_bytes):
            start = 0
            while not table.columns and start < len(raws):  # the header, and whatever comes before it
                yield from _one(table, first + start, raws[start], encoding)
                start += 1
            if not ended and table.columns and start < len(raws):
                stop = _table_end(raws, start, fmt.ends_with)
                ended = stop < len(raws)
                if stop > start:
                    yield _block(table, fmt, first + start, raws[start:stop], encoding)
                start = stop
            for i in range(start, len(raws)):
                yield from _one(table, first + i, raws[i], encoding)
    table.finish()


def _one(table: LineTable, line_no: int, raw: bytes, encoding: str) -> Iterator[ParsedLine]:
    try:
        text: str | None = raw.decode(encoding)
    except UnicodeDecodeError:
        text = None
    item = table.read(line_no, raw, text, encoding)
    if item is not None:
        yield screen(item)


def _table_end(raws: list[bytes], start: int, ends_with: bytes | None) -> int:
    if ends_with is None:
        return len(raws)
    for i in range(start, len(raws)):
        if raws[i].startswith(ends_with):
            return i
    return len(raws)


def _block(table: LineTable, fmt: TableFormat, first: int, raws: list[bytes], encoding: str) -> LineBlock:
    """Table lines as one block: cleared ones as columns, the rest read one at a time, in the file's order."""
    try:  # one decode and one split for the block (no line holds a line break: they were split on them)
        joined = b"\n".join(raws).decode("utf-8")
        texts = pl.Series("text", [joined]).str.split("\n").explode()
    except UnicodeDecodeError:
        texts = pl.Series("text", [_decoded(raw) for raw in raws], dtype=pl.String)
    frame = pl.DataFrame(
        {"line_no": pl.int_range(first, first + len(raws), eager=True, dtype=pl.Int64), "text": texts}
    ).with_row_index("i")
    start = pl.col("text").str.strip_chars_start(" \t")
    plain = (
        pl.col("text").is_not_null()
        & pl.col("text").str.contains(_PLAIN_LINE)
        & (pl.col("text").str.count_matches(fmt.delimiter, literal=True) == table.width - 1)
        & (start != "")
    )
    if fmt.aside:
        plain &= ~pl.any_horizontal([start.str.starts_with(prefix) for prefix in fmt.aside])
    candidates = frame.filter(plain)
    cleared = fmt.clear(candidates, table.columns) if candidates.height else None
    index = cleared["i"].to_list() if cleared is not None else []
    columns = pl.DataFrame(schema=LINE_COLUMNS)
    if cleared is not None and index:
        hashes = [hashlib.sha256(raws[i]).hexdigest() for i in index]
        cleared = cleared.with_columns(pl.Series("raw_hash", hashes, dtype=pl.String))
        columns = cleared.select(pl.col(name).cast(dtype) for name, dtype in LINE_COLUMNS.items())
    done = set(index)
    lines: list[SettlementLine] = []
    bad: list[BadLine] = []
    for i, raw in enumerate(raws):
        if i in done:
            continue
        for item in _one(table, first + i, raw, encoding):  # a UTF-8 name, as the file's mapping spells it
            (bad if isinstance(item, BadLine) else lines).append(item)  # type: ignore[arg-type]
    return LineBlock(columns, lines, bad)


def _decoded(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _chunks(fh: BinaryIO, size: int) -> Iterator[tuple[int, list[bytes]]]:
    """(first line no., the lines without their endings) per ``size`` bytes or so, split where
    ``reading.iter_lines`` splits (CRLF, LF or a lone CR; a UTF-8 BOM off the first line)."""
    pending, line_no = b"", 1
    while True:
        chunk = fh.read(size)
        data = pending + chunk
        if not chunk:
            cut = len(data) - 1
        else:
            cut = data.rfind(b"\n")
            if cut < 0:  # no LF at all: a lone CR ends a line when a byte follows it in this chunk
                cut = data.rfind(b"\r", 0, len(data) - 1)
            if cut < 0:
                pending = data
                continue
        head, pending = data[: cut + 1], data[cut + 1 :]
        lines = head.splitlines()
        if lines and line_no == 1 and lines[0].startswith(_BOM):
            lines[0] = lines[0][len(_BOM) :]
        if lines:
            yield line_no, lines
            line_no += len(lines)
        if not chunk:
            return


# ---- clearing values as columns ---------------------------------------------------------------------------

_AMOUNT = r"^(-?)([0-9]{1,15})(?:\.([0-9]{1,2}))?$"
_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"


def fen(text: pl.Expr) -> pl.Expr:
    """``yuan_to_fen`` of the plain forms (``-12.3``, ``0.05``, ``7``; "" is 0); null for any other (those lines are
    read one at a time)."""
    parts = pl.when(text == "").then(pl.lit("0")).otherwise(text).str.extract_groups(_AMOUNT)
    whole = parts.struct.field("2").cast(pl.Int64, strict=False)
    cents = parts.struct.field("3").fill_null("").str.pad_end(2, "0").cast(pl.Int64, strict=False)
    value = whole * 100 + cents
    return pl.when(parts.struct.field("1") == "-").then(-value).otherwise(value)


def local_time(text: pl.Expr) -> pl.Expr:
    """``parse_local_time`` of ``%Y-%m-%d %H:%M:%S`` written in full; null for anything else."""
    shaped = text.str.contains(_TIME)
    wall = text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
    return pl.when(shaped).then(wall)


def card_free(text: pl.Expr) -> pl.Expr:
    """True where ``find_card_data`` cannot find anything in ``text``: plain ASCII, no ``cv`` (a CVV label; the
    Chinese ones are not ASCII), and fewer than 13 digits, or 13 or more in one group that is no PAN's length
    with a scheme's prefix and is followed by no track separator (``^`` ``=`` ``D``). The rest is asked."""
    few = ~text.str.contains("[0-9](?:[^0-9]*[0-9]){12}")  # fewer than 13 digits
    one_group = text.str.contains("^[^0-9]*[0-9]+[^0-9]*$")
    # In one group, its length is the digit count and it starts at the first digit.
    pan_length = ~text.str.contains("[0-9](?:[^0-9]*[0-9]){19}")  # (13 or more and) at most 19 digits
    maybe_pan = pan_length & text.str.contains(f"^[^0-9]*{CARD_PREFIX}")
    track = text.str.contains("[\\^=D]")
    ascii_ = text.str.len_bytes() == text.str.len_chars()
    cvv = text.str.contains("(?i)cv")
    return ascii_ & ~cvv & (few | (one_group & ~maybe_pan & ~track))


def track_free(text: pl.Expr) -> pl.Expr:
    """True where ``find_track_data`` cannot find anything: plain ASCII without ``^``, ``=`` or ``D``."""
    return (text.str.len_bytes() == text.str.len_chars()) & ~text.str.contains("[\\^=D]")
