"""An import batch written as one table: the rows the bulk reader cleared (``adapters/sales_table.py``) and the
sales the service checked one at a time, in the file's order, in one statement (SQLite: ``INSERT OR IGNORE``
executemany on the driver's cursor; PostgreSQL: CSV COPY into the session-local twin, then ``INSERT … SELECT …
ON CONFLICT DO NOTHING``). No ``Sale`` object and no dict is built per clean row: the columns go from polars to
the driver as tuples or CSV text.

Why one statement in the file's order: a sale twice in the file is recorded from its first line, whichever of
the two ways its lines were checked."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection

from posrefund.adapters.db import tables
from posrefund.adapters.db.bulk import copy_csv, skipping_known
from posrefund.domain.pii import card_last4
from posrefund.domain.sale import Sale
from posrefund.ports import SaleStamp

# A new sale's refund sums (0) and channel reference ("") are the table's defaults: four values fewer to bind.
_DEFAULTS = ("refunded_fen", "reserved_fen", "refund_count", "channel_trade_no")
COLUMNS = [c.name for c in tables.sales.columns if c.name not in _DEFAULTS]
_TEXT_TIME = "%Y-%m-%d %H:%M:%S%.6f"  # what UTCDateTime stores on SQLite
_QUARTER_US = 900 * 1_000_000  # every zone's midnight falls on a quarter hour of UTC
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
# The page cache (KiB, as SQLite's negative cache_size) while a batch is written: the sales table's nine indexes
# take a batch's rows at scattered places (the last four digits, the card keys), and with the usual 2 MiB every
# page was written out and read back several times within the batch. The connection's own size is restored after.
_BATCH_CACHE_KIB = -131_072


def write_sale_table(
    conn: Connection,
    clean: pl.DataFrame | None,
    checked: Sequence[tuple[int, Sale]],
    stamp: SaleStamp,
    local_date: Callable[[datetime], date],
) -> tuple[int, list[date]]:
    """How many sales were new, and the local days the batch holds."""
    frame = _frame(clean, checked, stamp)
    if frame.height == 0:
        return 0, []
    days = {k: local_date(_EPOCH + k * _QUARTER_US * _MICRO) for k in (frame["paid_us"] // _QUARTER_US).unique()}
    sqlite = conn.dialect.name == "sqlite"
    at_utc = "" if sqlite else "+00:00"
    frame = frame.with_columns(
        pl.from_epoch("paid_us", "us").dt.strftime(_TEXT_TIME + at_utc).alias("paid_at"),
        pl.col("paid_us")
        .floordiv(_QUARTER_US)
        .replace_strict({k: d.isoformat() for k, d in days.items()}, return_dtype=pl.String)
        .alias("paid_date"),
        pl.lit(stamp.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + at_utc).alias("created_at"),
    ).select(COLUMNS)
    if sqlite:
        driver: Any = conn.connection.dbapi_connection
        marks = ", ".join("?" * len(COLUMNS))
        sql = f"INSERT OR IGNORE INTO sales ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608 - metadata names
        with batch_cache(driver) as cursor:
            cursor.executemany(sql, frame.rows())
            inserted = int(cursor.rowcount)
    else:
        text = io.BytesIO()
        frame.write_csv(text, include_header=False, quote_style="always")
        data = text.getvalue()
        inserted = skipping_known(conn, tables.sales, COLUMNS, lambda twin: copy_csv(conn, twin, COLUMNS, data))
    return inserted, sorted(set(days.values()))


@contextmanager
def batch_cache(driver: Any) -> Iterator[Any]:
    """A cursor of the SQLite driver's connection with the larger page cache of a bulk write; the connection's
    own size is restored after."""
    cursor = driver.cursor()
    usual = int(cursor.execute("PRAGMA cache_size").fetchone()[0])
    try:
        cursor.execute(f"PRAGMA cache_size = {_BATCH_CACHE_KIB}")
        yield cursor
    finally:
        cursor.execute(f"PRAGMA cache_size = {usual}")
        cursor.close()


def _frame(clean: pl.DataFrame | None, checked: Sequence[tuple[int, Sale]], stamp: SaleStamp) -> pl.DataFrame:
    """Both kinds of row with every column but the times as text, in line order."""
    parts: list[pl.DataFrame] = []
    if clean is not None and clean.height:
        parts.append(
            clean.with_columns(
                pl.Series("id", list(stamp.ids), dtype=pl.String),
                pl.lit(stamp.merchant_id).alias("merchant_id"),
                pl.lit(stamp.sold_by).alias("sold_by"),
            )
        )
    if checked:
        parts.append(pl.DataFrame([_row(line, sale) for line, sale in checked]))
    if not parts:
        return pl.DataFrame()
    shape = [*parts[0].columns]
    return pl.concat([p.select(shape).cast(parts[0].schema) for p in parts]).sort("line")


def _row(line: int, sale: Sale) -> dict[str, Any]:
    """A sale checked one at a time, in the clean rows' columns."""
    return {"line": line, **sale_values(sale), "paid_us": (sale.paid_at - _EPOCH) // _MICRO}


def sale_values(sale: Sale) -> dict[str, Any]:
    """A new sale's columns but its time, its local date and the refund sums (nothing refunded or held yet)."""
    return {
        "id": sale.id,
        "merchant_id": sale.merchant_id,
        "store_id": sale.store_id,
        "terminal_id": sale.terminal_id,
        "voucher_no": sale.voucher_no,
        "rrn": sale.rrn,
        "batch_no": sale.batch_no,
        "auth_code": sale.auth_code,
        "order_no": sale.order_no,
        "channel": sale.channel.value,
        "kind": sale.kind.value,
        "amount_fen": sale.amount_fen,
        "fee_fen": sale.fee_fen,
        "currency": sale.currency,
        "settlement_status": sale.settlement_status.value,
        "payer_masked": sale.payer_masked,
        "card_last4": card_last4(sale.payer_masked),
        "sold_by": sale.sold_by,
    }
