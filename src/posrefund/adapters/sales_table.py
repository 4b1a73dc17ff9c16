"""An import file of sales read a batch at a time by polars, each batch judged column by column.

Why: checking a row in Python (its identifiers, the card data scan, its time, the ``Sale`` it builds) costs
~90 µs of CPU; a million-row POS export took minutes. Here a batch of 20,000 rows is parsed and checked as
columns in a few milliseconds. The bulk check only *clears* rows: it uses the values ``service/sales`` checks
with (``FieldRules``), and anything it is not sure of — a character outside printable ASCII, a number with a
sign or spaces, an item list, a time in a form other than ``YYYY-MM-DD[T ]HH:MM:SS[.ffffff][Z|±HH:MM]``, a
local time a clock change skips — goes to ``rest`` with its line, to be read and checked one row at a time by
the same code as before, so every bad row is still reported with the same code and message.

A file polars would number differently from ``csv.DictReader`` (blank lines, bare CR line ends, a header with
an empty or repeated name), a file that is not UTF-8 (GBK, GB18030) and an XLSX workbook are read by
``tabular.read_rows`` as before and handed over whole as ``rest``; so is the rest of a file from the batch where
polars finds quoting it cannot read (a stray quote ``csv`` reads to the end of the file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from functools import partial
from itertools import islice
from pathlib import Path

import polars as pl

from posrefund.adapters.tabular import plain_csv_header, read_rows
from posrefund.domain.pii import CARD_PREFIX, find_card_data
from posrefund.domain.sale import SALE_KEY_SEPARATOR, SaleKey
from posrefund.ports import FieldRules, ImportScope, TableBatch

BATCH = 20_000
REQUIRED = ("paid_at", "channel", "amount_fen")
OPTIONAL = (
    "terminal_id",
    "voucher_no",
    "rrn",
    "batch_no",
    "auth_code",
    "order_no",
    "kind",
    "fee_fen",
    "currency",
    "payer_masked",
    "settlement_status",
    "items",
)
# Printable ASCII without the double quote: Python's ``str.strip`` and polars' ``strip_chars(" ")`` agree on it,
# and no CSV quoting rule can read it two ways.
_PLAIN = r"^[ !#-~]*$"
_WHOLE = r"^[0-9]{1,15}$"
_TIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?(Z|[+-](0[0-9]|1[0-9]|2[0-3]):[0-5][0-9])?$"
)


def read_sale_batches(
    path: Path,
    scope: ImportScope,
    rules: FieldRules,
    local_zone: tzinfo,
    now: Callable[[], datetime],
    batch: int = BATCH,
) -> Iterator[TableBatch]:
    """The file's rows in batches of ``batch``, each split into clean rows and the rest (see the module)."""
    header = plain_csv_header(path, REQUIRED)
    if header is None:
        rows = read_rows(path)
        while chunk := list(islice(rows, batch)):
            yield TableBatch(clean=None, clean_rows=0, naive=0, rest=chunk)
        return
    frames = pl.scan_csv(path, infer_schema=False, empty_string_is_null=False, truncate_ragged_lines=True)
    line = 2
    reads = frames.collect_batches(chunk_size=batch)
    while True:
        try:
            read = next(reads, None)
        except pl.exceptions.ComputeError:  # quoting polars cannot read (``csv`` reads it): the rest the old way
            rows = islice(read_rows(path), line - 2, None)
            while chunk := list(islice(rows, batch)):
                yield TableBatch(clean=None, clean_rows=0, naive=0, rest=chunk)
            return
        if read is None:
            return
        frame = read.with_row_index("line", offset=line)
        line += frame.height
        limit = int((now().timestamp() + rules.clock_skew_seconds) * 1_000_000)
        judged = _judged(frame, header, scope, rules, getattr(local_zone, "key", None), limit)
        clean = judged.filter(judged["ok"])
        rest = frame.filter(~judged["ok"]).select("line", *header)  # as read: checked again one at a time
        yield TableBatch(
            clean=clean.drop("ok", "naive"),
            clean_rows=clean.height,
            naive=int(clean["naive"].sum()),
            rest=[(int(r[0]), dict(zip(header, r[1:], strict=True))) for r in rest.iter_rows()],
            keys=partial(sale_keys, clean),
        )


def sale_keys(clean: pl.DataFrame) -> frozenset[SaleKey]:
    """``domain.sale.sale_key`` of every clean row, built as a column (a clean row always has one of the two)."""
    card = pl.concat_str([pl.lit("card"), "terminal_id", "batch_no", "voucher_no"], separator=SALE_KEY_SEPARATOR)
    wallet = pl.concat_str([pl.lit("wallet"), "order_no"], separator=SALE_KEY_SEPARATOR)
    keys = clean.select(pl.when(pl.col("voucher_no") != "").then(card).otherwise(wallet).alias("key"))
    return frozenset(keys["key"].to_list())


def _col(header: list[str], name: str) -> pl.Expr:
    return pl.col(name) if name in header else pl.lit("")


def _value(header: list[str], name: str, default: str = "") -> pl.Expr:
    """``(rec.get(name) or default).strip()``, for plain text."""
    raw = _col(header, name)
    return pl.when(raw == "").then(pl.lit(default)).otherwise(raw.str.strip_chars(" "))


def _judged(
    frame: pl.DataFrame, header: list[str], scope: ImportScope, rules: FieldRules, zone: str | None, limit: int
) -> pl.DataFrame:
    """The batch with its sale columns and ``ok`` (cleared by every check) and ``naive`` flags."""
    present = [c for c in (*REQUIRED, *OPTIONAL) if c in header]
    plain = pl.all_horizontal([pl.col(c).str.contains(_PLAIN) for c in present])
    v = {name: _value(header, name) for name in (*rules.patterns, "channel", "payer_masked")}
    term = _value(header, "terminal_id").replace(dict(scope.terminals))
    out = frame.with_columns(
        plain.alias("plain"),
        term.alias("terminal_id"),
        term.replace_strict(dict(scope.stores), default=None, return_dtype=pl.String).alias("store_id"),
        *(expr.alias(name) for name, expr in v.items()),
        _value(header, "kind", "sale").alias("kind"),
        _value(header, "currency", "CNY").alias("currency"),
        _value(header, "settlement_status", "unsettled").alias("settlement_status"),
        pl.col("amount_fen").str.contains(_WHOLE).alias("amount_ok"),
        _col(header, "fee_fen").str.contains(r"^$|" + _WHOLE).alias("fee_ok"),
        _col(header, "items").str.strip_chars(" ").eq("").alias("no_items"),
    )
    out = out.with_columns(
        pl.when(pl.col("amount_ok")).then(pl.col("amount_fen").cast(pl.Int64, strict=False)).alias("amount_fen"),
        pl.when(pl.col("fee_ok"))
        .then(_col(header, "fee_fen").replace("", "0").cast(pl.Int64, strict=False))
        .alias("fee_fen"),
        *time_us(pl.col("paid_at").str.strip_chars(" "), zone),
    )
    fields_ok = _fields_ok(rules, _card_data(out))
    ok = pl.col("plain") & pl.col("no_items") & pl.col("store_id").is_not_null() & fields_ok
    ok = ok & pl.col("paid_us").is_not_null() & (pl.col("paid_us") <= limit)
    last4 = pl.col("payer_masked").str.slice(-4)
    return out.select(
        "line",
        *("terminal_id", "store_id", *rules.patterns, "channel", "kind", "amount_fen", "fee_fen", "currency"),
        "paid_us",
        "settlement_status",
        "payer_masked",
        pl.when(last4.str.contains("^[0-9]+$")).then(last4).otherwise(pl.lit("")).alias("card_last4"),
        ok.fill_null(False).alias("ok"),
        pl.col("naive").fill_null(False),
    )


def _card_data(frame: pl.DataFrame) -> list[str]:
    """The order nos. of the batch that hold card data, by the one detector (``domain/pii.find_card_data``),
    asked only about those that might. It looks for a PAN only among 13–19 digits that start a digit group with a
    card scheme's prefix, for track data only where a ``D`` may follow them, for a CVV only after ``cv`` (the
    Chinese labels are not ASCII): an order no. of 13 or more digits in one group that is none of these (a date
    and a counter, ``SO20261119000000001``) cannot hold any, and is not asked about."""
    order = pl.col("order_no")
    group = order.str.extract("([0-9]+)")
    maybe_pan = group.str.len_chars().is_between(13, 19) & group.str.contains(f"^{CARD_PREFIX}")
    several_groups = ~order.str.contains("^[^0-9]*[0-9]+[^0-9]*$")
    long = order.str.count_matches("[0-9]") >= 13
    cvv = order.str.to_lowercase().str.contains("cv", literal=True)
    suspects = frame.filter(
        pl.col("plain") & (cvv | (long & (several_groups | maybe_pan | order.str.contains("D", literal=True))))
    )
    return [value for value in suspects["order_no"].unique().to_list() if find_card_data(value) is not None]


def _fields_ok(rules: FieldRules, card_data: list[str]) -> pl.Expr:
    """``check_fields`` over whole columns, for plain-ASCII rows (the others are not cleared anyway)."""
    wallet = pl.col("channel").is_in(list(rules.wallet_channels)) & (pl.col("voucher_no") == "")
    ok = pl.lit(True)
    for name, pattern in rules.patterns.items():
        match = pl.col(name).str.contains(f"^(?:{pattern})$")
        may_be_empty = (wallet & (pl.col(name) == "")) if name in rules.card_keys else pl.lit(False)
        ok = ok & (match | may_be_empty)
    ok = ok & ~(wallet & (pl.col("order_no") == ""))
    for name, allowed in (
        ("channel", rules.channels),
        ("kind", rules.kinds),
        ("settlement_status", rules.settlement_statuses),
        ("currency", rules.currencies),
    ):
        ok = ok & pl.col(name).is_in(sorted(allowed))
    amount, fee = pl.col("amount_fen"), pl.col("fee_fen")
    ok = ok & (amount > 0) & (amount <= rules.max_amount_fen) & (fee >= 0) & (fee <= amount)
    # No card data: the order nos. that hold some are named by ``_card_data``; a payer may hold at most 10 digits
    # (too few for a PAN or track data) and no CVV label.
    payer, payer_digits = pl.col("payer_masked"), pl.col("payer_masked").str.count_matches("[0-9]")
    ok = ok & ~pl.col("order_no").is_in(card_data)
    masked = (payer_digits <= 4) | ((payer_digits <= 10) & payer.str.contains("*", literal=True))
    return ok & masked & ~payer.str.to_lowercase().str.contains("cv", literal=True)


def time_us(text: pl.Expr, zone: str | None) -> list[pl.Expr]:
    """``paid_us`` (the instant, µs since the epoch) and ``naive``; null where the form is not the plain one
    or the local time does not exist (a clock change skips it)."""
    shaped = text.str.contains(_TIME)
    local = text.str.slice(0, 19).str.replace("T", " ", literal=True)
    wall = local.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
    micros = pl.when(text.str.slice(19, 1) == ".").then(text.str.slice(20, 6).cast(pl.Int64, strict=False))
    wall_us = wall.dt.epoch("us") + micros.fill_null(0)
    offset = text.str.extract(r"([+-][0-9]{2}:[0-9]{2})$")
    sign = pl.when(offset.str.slice(0, 1) == "-").then(-1).otherwise(1)
    offset_us = sign * (offset.str.slice(1, 2).cast(pl.Int64) * 60 + offset.str.slice(4, 2).cast(pl.Int64))
    naive = ~text.str.contains(r"(Z|[+-][0-9]{2}:[0-9]{2})$")
    if zone is None:
        in_zone = pl.lit(None, dtype=pl.Int64)
    else:
        zoned = wall.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        in_zone = zoned.dt.epoch("us") + micros.fill_null(0)
    aware = wall_us - offset_us.fill_null(0) * 60_000_000
    paid = pl.when(~shaped).then(None).when(naive).then(in_zone).otherwise(aware)
    return [paid.alias("paid_us"), (shaped & naive).alias("naive")]
