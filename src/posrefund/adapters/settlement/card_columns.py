"""The acquirer's card file read as columns (``blocks.py``): what ``card._card_line``, the lines' totals and the
card-data screening make of a plain line, in the file's own layout (``CardMapping``), written over a block of
lines at once. A line any of it is not sure of is left to that reading (``card.CardTable``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import polars as pl

from posrefund.adapters.settlement.blocks import (
    BLOCK_BYTES,
    LineBlock,
    TableFormat,
    card_free,
    cleared,
    fen,
    read_blocks,
    track_free,
)
from posrefund.adapters.settlement.card import CARD_TYPES, CardMapping, CardTable
from posrefund.adapters.settlement.model import ParsedLine, Tally
from posrefund.adapters.settlement.reading import BinarySource, time_pattern

_KEY_CHARS = 200
# The printed totals of a line, by its mapped field: the amount as signed in the file, and the fee.
_PRINTED = {"amount": "printed_amount", "fee": "fee_fen"}
_PAN_LENGTH = 13  # ``mask_card_number`` leaves a shorter card column as it is
# The fields a card line keeps as text, each read as "" when the layout does not map it.
_TEXT = (
    "merchant_no",
    "terminal_no",
    "voucher_no",
    "rrn",
    "batch_no",
    "auth_code",
    "channel_trade_no",
    "merchant_order_no",
    "merchant_refund_no",
    "card_no",
    "currency",
    "card_type",
)


def read_card_blocks(
    source: BinarySource, encoding: str, mapping: CardMapping, tally: Tally, block_bytes: int = BLOCK_BYTES
) -> Iterator[ParsedLine | LineBlock]:
    """``screened(parse_card_settlement(source, mapping, tally))`` (the mapping read in ``encoding``), a block
    of the file at a time. Footer and comment lines (``skip_prefixes``) may come anywhere and are read one at a
    time; nothing ends the table."""
    table = CardTable(mapping, tally)
    fmt = TableFormat(
        table,
        None,
        lambda frame, _columns: _clear(frame, table, tally),
        delimiter=mapping.delimiter,
        aside=mapping.skip_prefixes,
    )
    return read_blocks(source, encoding, fmt, block_bytes)


def _clear(frame: pl.DataFrame, table: CardTable, tally: Tally) -> pl.DataFrame:
    """The block's lines this reading clears, as ``blocks.LINE_COLUMNS`` (``raw_hash`` is added by the block
    reader) and ``i``; their printed amounts and fees are added to ``tally`` as ``CardTable.read`` adds them."""
    mapping, columns = table.mapping, table.columns
    split = frame.select("i", "line_no", pl.col("text").str.split_exact(mapping.delimiter, table.width - 1).alias("f"))
    fields = split.unnest("f").select(
        "i",
        "line_no",
        *(pl.col(f"field_{index}").str.strip_chars(" \t").alias(name) for name, index in columns.items()),
        *(pl.lit("").alias(name) for name in ("kind", "amount", "fee", *_TEXT) if name not in columns),
    )
    to_fen = fen if mapping.amount_unit == "yuan" else _fen_field
    printed = to_fen(pl.col("amount"))
    kind = _kind(mapping, table.kind_of, printed)
    read = fields.with_columns(
        printed.alias("printed_amount"),
        to_fen(pl.col("fee")).alias("fee_fen"),
        kind.alias("kind"),
        _occurred(mapping).alias("occurred_local"),
    ).with_columns(printed.abs().alias("amount_fen"))
    card_no = pl.col("card_no")
    out = read.with_columns(
        pl.col("amount_fen").alias("settled_fen"),
        pl.when(pl.col("currency") == "")
        .then(pl.lit(mapping.currency))
        .otherwise(pl.col("currency"))
        .alias("currency"),
        pl.when(pl.col("kind") == "refund").then(pl.lit("SUCCESS")).otherwise(pl.lit("")).alias("refund_status"),
        card_no.alias("payer_masked"),
        pl.col("card_type").replace_strict(CARD_TYPES, default="", return_dtype=pl.String).alias("card_type"),
        _line_key(),
    ).filter(_cleared(card_no))
    if out.height:  # by the footer's names, as ``card._printed`` names them
        sums = {mapping.mapping[name]: column for name, column in _PRINTED.items() if name in columns}
        for name, column in sums.items():
            tally.add(name, int(out[column].sum()))
    return cleared(out, channel_refund_no="")


def _fen_field(text: pl.Expr) -> pl.Expr:
    """``fen_field`` of an amount in fen written plainly (``-1234``, ``000012``; "" is 0); null for any other."""
    plain = text.str.contains("^-?[0-9]{1,15}$")
    return pl.when(text == "").then(pl.lit(0, pl.Int64)).when(plain).then(text.cast(pl.Int64, strict=False))


def _kind(mapping: CardMapping, kind_of: Mapping[str, str], printed: pl.Expr) -> pl.Expr:
    """``kind_of`` of 交易类型, else (a layout signing refunds with a minus, no type) the amount's sign; null
    where the line reading refuses the type."""
    named = pl.col("kind").replace_strict(kind_of, default=None, return_dtype=pl.String)
    if mapping.sign != "negative_is_refund":
        return named
    signed = pl.when(pl.col("kind") == "").then(pl.when(printed < 0).then(pl.lit("refund")).otherwise(pl.lit("sale")))
    return pl.when(named.is_not_null()).then(named).otherwise(signed)


def _occurred(mapping: CardMapping) -> pl.Expr:
    """``parse_local_time`` of the line's time in the layout's format(s), for formats made of ``%Y %m %d %H %M
    %S`` and literals and ASCII digits (others are read one at a time): the wall clock in Shanghai, null where
    the line reading refuses it (or writes it otherwise)."""
    if "datetime" in mapping.mapping:
        text, fmt = pl.col("datetime"), mapping.datetime_format
    else:
        text = pl.concat_str([pl.col("date"), pl.lit(" "), pl.col("time")]).str.strip_chars(" \t")
        fmt = f"{mapping.date_format} {mapping.time_format}"
    pattern = time_pattern(fmt)
    if pattern is None:
        return pl.lit(None, pl.Datetime("us"))
    parts = text.str.extract_groups("^(?:" + pattern.pattern.replace("\\d", "[0-9]") + ")$")

    def part(name: str) -> pl.Expr:
        if name not in pattern.groupindex:
            return pl.lit(0, pl.Int64)
        return parts.struct.field(name).cast(pl.Int64, strict=False)

    year, month, day, hour, minute, second = (part(name) for name in "YmdHMS")
    in_range = (year >= 1000) & month.is_between(1, 12) & day.is_between(1, 31)
    in_range &= hour.is_between(0, 23) & minute.is_between(0, 59) & second.is_between(0, 59)
    padded = pl.format(
        "{}-{}-{} {}:{}:{}",
        year.cast(pl.String),
        *(value.cast(pl.String).str.zfill(2) for value in (month, day, hour, minute, second)),
    )
    wall = padded.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
    return pl.when(in_range).then(wall)


def _line_key() -> pl.Expr:
    """``model.line_key`` of a card line naming its trace or reference no. (one keyed by its text is not
    cleared): the settlement day in Beijing, the terminal, the trace (凭证号) and the reference no."""
    key = pl.concat_str(
        [
            pl.lit("card"),
            pl.col("kind"),
            pl.col("occurred_local").dt.strftime("%Y%m%d"),
            pl.col("terminal_no"),
            pl.col("voucher_no"),
            pl.col("rrn"),
        ],
        separator="|",
    ).str.slice(0, _KEY_CHARS)
    named = (pl.col("voucher_no") != "") | (pl.col("rrn") != "")
    return pl.when(named).then(key).alias("line_key")


def _cleared(card_no: pl.Expr) -> pl.Expr:
    """Every value read in its plain form, a type, an amount, a key; a card column ``mask_card_number`` keeps
    as it is (shorter than a PAN, already masked with ``*``, or fewer than 13 digits); no field that may hold
    card data."""
    read = [pl.col(name).is_not_null() for name in ("kind", "occurred_local", "fee_fen", "line_key")]
    read.append(pl.col("amount_fen") != 0)
    digits = card_no.str.count_matches("[0-9]")
    kept_as_is = (card_no.str.len_chars() < _PAN_LENGTH) | card_no.str.contains("*", literal=True) | (digits < 13)
    kept = ("terminal_no", "voucher_no", "rrn", "merchant_order_no", "merchant_refund_no", "batch_no", "auth_code")
    screened = [card_free(pl.col(name)) for name in (*kept, "card_no")]
    screened += [track_free(pl.col(name)) for name in ("merchant_no", "channel_trade_no")]
    return pl.all_horizontal([*read, kept_as_is, *screened]).fill_null(False)
