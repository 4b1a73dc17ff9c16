"""The WeChat Pay bill read as columns (``blocks.py``): what ``wechat._wechat_line`` and the bill's totals make of a
plain line, written over a block of lines at once. A line any of it is not sure of is left to that reading."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from posrefund.adapters.settlement.blocks import (
    BLOCK_BYTES,
    LineBlock,
    TableFormat,
    card_free,
    cleared,
    fen,
    local_time,
    read_blocks,
    track_free,
)
from posrefund.adapters.settlement.model import ParsedLine, Tally
from posrefund.adapters.settlement.reading import BinarySource
from posrefund.adapters.settlement.wechat import FEES, SUMMARY_START, TOTALS, wechat_table

_KEY_CHARS = 200
# The bill's columns this reading uses (a layout without one reads it as "", like ``field_reader``).
_READ = (
    "交易状态",
    "交易时间",
    *(column for column, _ in TOTALS.values()),
    FEES[1],
    "特约商户号",
    "商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "微信退款单号",
    "商户退款单号",
    "退款状态",
    "用户标识",
    "货币种类",
    "付款银行",
)


def read_wechat_blocks(
    source: BinarySource, encoding: str, tally: Tally, block_bytes: int = BLOCK_BYTES
) -> Iterator[ParsedLine | LineBlock]:
    """``screened(parse_wechat_bill(source, encoding, tally))``, a block of the table at a time."""
    fmt = TableFormat(
        wechat_table(tally), SUMMARY_START.encode("utf-8"), lambda frame, cols: _clear(frame, cols, tally)
    )
    return read_blocks(source, encoding, fmt, block_bytes)


def _clear(frame: pl.DataFrame, columns: dict[str, int], tally: Tally) -> pl.DataFrame:
    """The block's lines this reading clears, as ``blocks.LINE_COLUMNS`` (``raw_hash`` is added by the block
    reader) and ``i``; their totals are added to ``tally`` as ``line_of`` adds them."""
    width = len(columns)
    if max(columns.values()) >= width:  # a header naming a column twice: read one line at a time
        return frame.clear()
    values = _fields(frame, columns)

    def get(name: str) -> pl.Expr:
        return pl.col(name)

    refund = get("交易状态") == "REFUND"
    kind = pl.when(refund).then(pl.lit("refund")).when(get("交易状态") == "REVOKED").then(pl.lit("void"))
    sums = {column: fen(get(column)) for column, _ in TOTALS.values()} | {FEES[1]: fen(get(FEES[1]))}
    read = values.select(
        "i",
        "line_no",
        kind.otherwise(pl.lit("sale")).alias("kind"),
        refund.alias("refund"),
        local_time(get("交易时间")).alias("occurred_local"),
        *(value.alias(f"sum:{column}") for column, value in sums.items()),
        get("特约商户号").alias("sub_merchant"),
        get("商户号").alias("merchant"),
        get("设备号").alias("terminal_no"),
        get("微信订单号").alias("channel_trade_no"),
        get("商户订单号").alias("merchant_order_no"),
        pl.when(refund).then(get("微信退款单号")).otherwise(pl.lit("")).alias("channel_refund_no"),
        pl.when(refund).then(get("商户退款单号")).otherwise(pl.lit("")).alias("merchant_refund_no"),
        pl.when(refund).then(get("退款状态")).otherwise(pl.lit("")).alias("refund_status"),
        get("用户标识").alias("payer"),
        get("货币种类").alias("currency"),
        get("付款银行").alias("bank"),
    )
    out = read.with_columns(*_derived()).with_columns(_line_key())
    out = out.filter(_cleared())
    if out.height:
        _tally(out, tally)
    return cleared(out, voucher_no="", rrn="", batch_no="")


def _fields(frame: pl.DataFrame, columns: dict[str, int]) -> pl.DataFrame:
    """The fields ``_READ`` names, as ``field_reader(row, columns, _unquoted)`` reads them (the block's lines are
    plain: no quote, the header's number of fields, no whitespace but the space and the tab)."""
    wanted = [name for name in _READ if name in columns]
    split = frame.select("i", "line_no", pl.col("text").str.split_exact(",", len(columns) - 1).alias("f"))
    return split.unnest("f").select(
        "i",
        "line_no",
        *(
            pl.col(f"field_{columns[name]}")
            .str.strip_chars(" \t")
            .str.strip_prefix("`")
            .str.strip_chars(" \t")
            .alias(name)
            for name in wanted
        ),
        *(pl.lit("").alias(name) for name in _READ if name not in columns),
    )


def _derived() -> list[pl.Expr]:
    refund = pl.col("refund")
    paid = pl.when(refund).then(pl.col("sum:退款金额")).otherwise(pl.col("sum:应结订单金额")).abs()
    whole = pl.when(refund).then(pl.col("sum:申请退款金额")).otherwise(pl.col("sum:订单金额")).abs()
    amount = pl.when(whole != 0).then(whole).otherwise(paid)
    sub, payer, bank = pl.col("sub_merchant"), pl.col("payer"), pl.col("bank")
    return [
        amount.alias("amount_fen"),
        pl.col(f"sum:{FEES[1]}").alias("fee_fen"),
        pl.when(paid != 0).then(paid).otherwise(amount).alias("settled_fen"),
        pl.when(pl.col("currency") == "").then(pl.lit("CNY")).otherwise(pl.col("currency")).alias("currency"),
        pl.when(sub.is_in(["", "0"])).then(pl.col("merchant")).otherwise(sub).alias("merchant_no"),
        pl.when(payer.str.len_chars() > 4)
        .then(pl.concat_str([payer.str.slice(0, 2), pl.lit("***"), payer.str.slice(-2)]))
        .otherwise(pl.lit(""))
        .alias("payer_masked"),
        pl.when(bank.str.ends_with("_DEBIT"))
        .then(pl.lit("debit"))
        .when(bank.str.ends_with("_CREDIT"))
        .then(pl.lit("credit"))
        .when(bank.is_in(["OTHERS", "零钱", "零钱通"]))
        .then(pl.lit("wallet"))
        .otherwise(pl.lit(""))
        .alias("card_type"),
    ]


def _line_key() -> pl.Expr:
    """``model.line_key`` of a line named by its references (a line keyed by its text is not cleared)."""
    trade, order = pl.col("channel_trade_no"), pl.col("merchant_order_no")
    own = pl.when(pl.col("channel_refund_no") != "").then(pl.col("channel_refund_no"))
    refund_no = pl.when(pl.col("refund")).then(own.otherwise(pl.col("merchant_refund_no"))).otherwise(pl.lit(""))
    first = pl.when(trade != "").then(trade).otherwise(order)
    key = pl.concat_str([pl.lit("wechat"), pl.col("kind"), first, refund_no], separator="|").str.slice(0, _KEY_CHARS)
    named = (first != "") & (~pl.col("refund") | (refund_no != ""))
    return pl.when(named).then(key).alias("line_key")


def _cleared() -> pl.Expr:
    """Every value read in its plain form, an amount, a key, and no field that may hold card data."""
    read = [pl.col(name).is_not_null() for name in ("occurred_local", "line_key")]
    read += [pl.col(f"sum:{column}").is_not_null() for column, _ in TOTALS.values()]
    read += [pl.col(f"sum:{FEES[1]}").is_not_null(), pl.col("amount_fen") != 0]
    kept = ("terminal_no", "merchant_order_no", "merchant_refund_no", "refund_status", "payer_masked")
    screened = [card_free(pl.col(name)) for name in kept]
    screened += [track_free(pl.col(name)) for name in ("merchant_no", "channel_trade_no", "channel_refund_no")]
    return pl.all_horizontal([*read, *screened]).fill_null(False)


def _tally(out: pl.DataFrame, tally: Tally) -> None:
    """``line_of``'s totals over the cleared lines: each summary total over refund lines or the others, and over
    every line (``Tally.also``), and the fees."""
    refunds = out["refund"]
    for total, (column, of_refunds) in TOTALS.items():
        values = out[f"sum:{column}"]
        if (refunds == of_refunds).any():  # ``line_of`` names a total only once a line of its kind adds to it
            tally.add(total, int(values.filter(refunds == of_refunds).sum()))
        tally.add(total, int(values.sum()), also=True)
    tally.add(FEES[0], int(out[f"sum:{FEES[1]}"].sum()))
