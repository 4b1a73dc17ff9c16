"""A refunds file (渠道侧退款) read by polars and judged column by column, as ``sales_table`` does for sales.

Why: reading and checking a row in Python (its identifiers, the card data scan of its note, its time) cost tens
of µs; a file of a hundred thousand refunds took seconds of CPU before its first sale was looked for. The bulk
check only *clears* rows, by the values ``refund_imports.check_refund`` checks with (``RefundRules``): a row it is
not sure of — a field outside printable ASCII (but a note without three digits of any script, which can hold no
card data), a number with a sign or spaces, a time in another form — goes to ``rest`` with its line, to be read
and checked one row at a time by the same code as before, so every bad row is reported with the same code.

A file polars would number differently from ``csv.DictReader``, one that is not UTF-8, and an XLSX workbook are
read by ``tabular.read_rows`` as before and handed over whole as ``rest``; so is a file whose quoting polars
cannot read (a stray quote ``csv`` reads to the end of the file).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from pathlib import Path

import polars as pl

from posrefund.adapters.sales_table import time_us
from posrefund.adapters.tabular import plain_csv_header, read_rows
from posrefund.ports import RefundRules, TableBatch

REQUIRED = ("refund_no", "channel", "amount_fen", "refunded_at")
OPTIONAL = ("order_no", "terminal_id", "batch_no", "voucher_no", "rrn", "currency", "channel_refund_id", "kind", "note")
COLUMNS = [
    "line",
    "refund_no",
    "channel",
    "order_no",
    "terminal_id",
    "batch_no",
    "voucher_no",
    "rrn",
    "amount_fen",
    "currency",
    "refunded_us",
    "channel_refund_id",
    "kind",
    "note",
]
_PLAIN = r"^[ !#-~]*$"  # printable ASCII without the double quote (see sales_table)
_WHOLE = r"^[0-9]{1,15}$"


def read_refund_table(
    path: Path, rules: RefundRules, terminals: Mapping[str, str], local_zone: tzinfo, now: datetime
) -> TableBatch:
    """The whole file, split into the rows cleared in bulk and the rest (see the module)."""
    header = plain_csv_header(path, REQUIRED)
    if header is None:
        return TableBatch(clean=None, clean_rows=0, naive=0, rest=list(read_rows(path)))
    try:
        frame = pl.scan_csv(path, infer_schema=False, empty_string_is_null=False, truncate_ragged_lines=True).collect()
    except pl.exceptions.ComputeError:  # quoting polars cannot read (``csv`` reads it): the old way, whole
        return TableBatch(clean=None, clean_rows=0, naive=0, rest=list(read_rows(path)))
    frame = frame.with_row_index("line", offset=2).with_columns(pl.col("line").cast(pl.Int64))
    limit = int((now.timestamp() + rules.clock_skew_seconds) * 1_000_000)
    judged = _judged(frame, header, rules, terminals, getattr(local_zone, "key", None), limit)
    clean = judged.filter(judged["ok"])
    rest = frame.filter(~judged["ok"]).select("line", *header)
    return TableBatch(
        clean=clean.select(COLUMNS),
        clean_rows=clean.height,
        naive=int(clean["naive"].sum()),
        rest=[(int(r[0]), dict(zip(header, r[1:], strict=True))) for r in rest.iter_rows()],
    )


def _value(header: list[str], name: str, default: str = "") -> pl.Expr:
    """``(rec.get(name) or default).strip()``, for plain text."""
    if name not in header:
        return pl.lit(default)
    raw = pl.col(name)
    return pl.when(raw == "").then(pl.lit(default)).otherwise(raw.str.strip_chars(" "))


def _judged(
    frame: pl.DataFrame,
    header: list[str],
    rules: RefundRules,
    terminals: Mapping[str, str],
    zone: str | None,
    limit: int,
) -> pl.DataFrame:
    """The file with its refund columns and ``ok`` (cleared by every check) and ``naive`` flags."""
    present = [c for c in (*REQUIRED, *OPTIONAL) if c in header and c != "note"]
    plain = pl.all_horizontal([pl.col(c).str.contains(_PLAIN) for c in present])
    note = pl.col("note") if "note" in header else pl.lit("")
    # A note is cleared when it is plain ASCII without a CVV label and without 13 digits, or, in any script, when
    # it holds fewer than three characters that are numbers of any kind (a CVV needs three, a PAN thirteen);
    # whitespace other than the space (Python and polars strip it differently) sends it to the one-row path.
    ascii_note = note.str.contains(_PLAIN) & ~note.str.to_lowercase().str.contains("cv", literal=True)
    ascii_note = ascii_note & (note.str.count_matches("[0-9]") < 13)
    note_ok = (ascii_note | (note.str.count_matches(r"\p{N}") < 3)) & ~note.str.contains(r"[\s&&[^ ]]|\p{Cc}")
    term = _value(header, "terminal_id").replace(dict(terminals))
    names = ("refund_no", "channel", "order_no", "batch_no", "voucher_no", "rrn", "channel_refund_id")
    out = frame.with_columns(
        plain.alias("plain"),
        note_ok.alias("note_ok"),
        term.alias("terminal_id"),
        *(_value(header, name).alias(name) for name in names),
        _value(header, "currency", "CNY").alias("currency"),
        _value(header, "kind", "refund").alias("kind"),
        note.str.strip_chars(" ").alias("note"),
        pl.col("amount_fen").str.contains(_WHOLE).alias("amount_ok"),
    )
    out = out.with_columns(
        pl.when(pl.col("amount_ok")).then(pl.col("amount_fen").cast(pl.Int64, strict=False)).alias("amount_fen"),
        *time_us(pl.col("refunded_at").str.strip_chars(" "), zone),
    ).rename({"paid_us": "refunded_us"})
    ok = pl.col("plain") & pl.col("note_ok") & _fields_ok(rules)
    ok = ok & pl.col("refunded_us").is_not_null() & (pl.col("refunded_us") <= limit)
    return out.with_columns(ok.fill_null(False).alias("ok"), pl.col("naive").fill_null(False))


def _fields_ok(rules: RefundRules) -> pl.Expr:
    """``check_refund`` over whole columns, for the rows whose fields are plain."""

    def whole(name: str, pattern: str) -> pl.Expr:
        return pl.col(name).str.contains(f"^(?:{pattern})$")

    def empty_or(name: str, pattern: str) -> pl.Expr:
        return (pl.col(name) == "") | whole(name, pattern)

    order, rrn, voucher = pl.col("order_no"), pl.col("rrn"), pl.col("voucher_no")
    names_sale = (order != "") | (rrn != "") | ((pl.col("terminal_id") != "") & (voucher != ""))
    amount = pl.col("amount_fen")
    return (
        (pl.col("refund_no") != "")
        & whole("refund_no", rules.order_no)
        & pl.col("channel").is_in(sorted(rules.channels))
        & pl.col("kind").is_in(list(rules.kinds))
        & whole("order_no", rules.order_no)
        & empty_or("voucher_no", rules.voucher_no)
        & empty_or("batch_no", rules.batch_no)
        & empty_or("rrn", rules.rrn)
        & whole("channel_refund_id", rules.order_no)
        & names_sale
        & (pl.col("note").str.len_chars() <= rules.max_note)
        & (amount > 0)
        & (amount <= rules.max_amount_fen)
        & pl.col("currency").is_in(sorted(rules.currencies))
    )
