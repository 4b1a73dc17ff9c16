"""A batch of a settlement file's lines written as one table: the lines read as columns (``settlement/blocks.py``)
and the ones read one at a time, in the file's order, numbered by their keys, cut to their columns, and written in
one statement — PostgreSQL's COPY of CSV text, SQLite's ``executemany`` of plain tuples on the driver's cursor —
instead of a parameter dict per line."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import Any

import polars as pl
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.bulk import copy_csv
from posrefund.adapters.settlement.blocks import LineBlock, line_columns
from posrefund.adapters.settlement.model import BadLine, SettlementLine
from posrefund.domain.errors import Conflict

_KEYS_PER_QUERY = 500
# Texts cut to their columns' widths (the currency is not: a longer one is refused by the column, as before).
_WIDTHS = {
    "merchant_no": 32,
    "terminal_no": 32,
    "voucher_no": 16,
    "rrn": 32,
    "channel_trade_no": 64,
    "merchant_order_no": 64,
    "channel_refund_no": 64,
    "merchant_refund_no": 64,
    "refund_status": 16,
    "payer_masked": 64,
    "batch_no": 12,
    "card_type": 8,
}
_TEXTS = (
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
    "auth_code",
)
COLUMNS = (
    "file_id",
    "merchant_id",
    "line_no",
    "kind",
    "occurred_at",
    "occurred_epoch",
    "local_date",
    "amount_fen",
    "fee_fen",
    "settled_fen",
    "currency",
    *_WIDTHS,
    "raw_hash",
    "line_key",
    "occurrence",
    "shadow",
)
_SHANGHAI_SECONDS = 8 * 3600
_STAGING_CACHE = -65536  # KiB: SQLite's page cache while a batch is written


def batch_of(items: Sequence[object]) -> tuple[pl.DataFrame, list[BadLine]]:
    """The batch's good lines as one frame (``blocks.LINE_COLUMNS``) in the file's order, and its bad lines. A line
    with a NUL in a text is a bad line (no database text holds NUL)."""
    frames: list[pl.DataFrame] = []
    loose: list[SettlementLine] = []
    bad: list[BadLine] = []
    for item in items:
        if isinstance(item, LineBlock):
            frames.append(item.frame)
            parsed: Sequence[object] = item.lines
            bad.extend(item.bad)
        else:
            parsed = (item,)
        for line in parsed:
            if isinstance(line, BadLine):
                bad.append(line)
                continue
            assert isinstance(line, SettlementLine)
            if "\x00" in "".join(getattr(line, name) for name in _TEXTS):
                bad.append(BadLine(line.line_no, "NUL character in a field", ""))
            else:
                loose.append(line)
    if loose or not frames:
        frames.append(line_columns(loose))
    good = pl.concat(frames) if len(frames) > 1 else frames[0]
    return (good.sort("line_no") if len(frames) > 1 else good), sorted(bad, key=lambda line: line.line_no)


def staged(good: pl.DataFrame, file_id: str, merchant_id: str) -> pl.DataFrame:
    """The rows as stored: texts cut to their columns, the time in UTC, its epoch second and local day."""
    local = pl.col("occurred_local")
    return good.with_columns(
        pl.lit(file_id).alias("file_id"),
        pl.lit(merchant_id).alias("merchant_id"),
        (local - pl.duration(seconds=_SHANGHAI_SECONDS)).alias("occurred_at"),
        (local.dt.epoch("s") - _SHANGHAI_SECONDS).alias("occurred_epoch"),
        local.dt.date().alias("local_date"),
        *(pl.col(name).str.slice(0, width) for name, width in _WIDTHS.items()),
        pl.lit(1, dtype=pl.Int64).alias("occurrence"),
        pl.lit("").alias("shadow"),
    )


def numbered(conn: Connection, file_id: str, merchant_id: str, rows: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Number the rows of one file with the same keys (``occurrence``: a sale the channel captured twice is two
    lines), and mark as shadows the rows whose keys and occurrence another file's counting line holds; how many
    there were. The same line with another amount refuses the file (``recon.file_line_conflict``)."""
    taken: dict[str, int] = {}  # this file's lines per key, earlier batches included
    held: list[tuple[str, int, str, int, int]] = []  # another file's counting lines of these keys
    for key, occurrence, other_file, other_line, shadow, amount in _known(conn, merchant_id, rows["line_key"]):
        if other_file == file_id:
            taken[key] = max(taken.get(key, 0), int(occurrence))
        elif not shadow:
            held.append((str(key), int(occurrence), str(other_file), int(other_line), int(amount)))
    occurrence = pl.col("line_key").cum_count().over("line_key").cast(pl.Int64)
    if taken:
        before = pl.col("line_key").replace_strict(taken, default=0, return_dtype=pl.Int64)
        occurrence = occurrence + before
    rows = rows.with_columns(occurrence.alias("occurrence"))
    if not held:
        return rows, 0
    other = pl.DataFrame(
        held,
        schema={
            "line_key": pl.String,
            "occurrence": pl.Int64,
            "o_file": pl.String,
            "o_line": pl.Int64,
            "o_amount": pl.Int64,
        },
        orient="row",
    )
    rows = rows.join(other, on=["line_key", "occurrence"], how="left", maintain_order="left")
    conflict = rows.filter(pl.col("o_file").is_not_null() & (pl.col("o_amount") != pl.col("amount_fen")))
    if conflict.height:
        first = conflict.row(0, named=True)
        raise Conflict(
            "recon.file_line_conflict", line=first["line_no"], file_id=first["o_file"], other_line=first["o_line"]
        )
    shadowed = pl.col("o_file").is_not_null()
    overlap = int(rows.select(shadowed.sum()).item())
    rows = rows.with_columns(pl.when(shadowed).then(pl.lit(file_id)).otherwise(pl.lit("")).alias("shadow"))
    return rows.drop("o_file", "o_line", "o_amount"), overlap


def _known(conn: Connection, merchant_id: str, keys: pl.Series) -> list[tuple[Any, ...]]:
    """The merchant's lines of these keys, any file's: (key, occurrence, file, line no., shadow, amount). Straight on
    the driver's cursor: a batch's keys are thousands of parameters, which SQLAlchemy would compile anew each time."""
    wanted = keys.unique(maintain_order=True).to_list()
    select = "SELECT line_key, occurrence, file_id, line_no, shadow, amount_fen FROM settlement_lines"
    driver: Any = conn.connection.dbapi_connection
    found: list[tuple[Any, ...]] = []
    with closing(driver.cursor()) as cursor:
        if conn.dialect.name == "postgresql":
            cursor.execute(f"{select} WHERE merchant_id = %s AND line_key = ANY(%s)", (merchant_id, wanted))
            return list(cursor.fetchall())
        for start in range(0, len(wanted), _KEYS_PER_QUERY):
            part = wanted[start : start + _KEYS_PER_QUERY]
            marks = ", ".join("?" * len(part))
            cursor.execute(f"{select} WHERE merchant_id = ? AND line_key IN ({marks})", (merchant_id, *part))
            found.extend(cursor.fetchall())
    return found


def write(conn: Connection, rows: pl.DataFrame) -> None:
    """The rows into ``settlement_lines`` in one statement, on the unit of work's transaction."""
    name = t.settlement_lines.name
    if conn.dialect.name == "postgresql":
        text = rows.select(
            *COLUMNS[:4],
            pl.col("occurred_at").dt.strftime("%Y-%m-%d %H:%M:%S%.6f+00:00"),
            *COLUMNS[5:],
        ).write_csv(include_header=False, quote_style="always")
        copy_csv(conn, name, COLUMNS, text.encode("utf-8"))
        return
    out = rows.select(
        *COLUMNS[:4],
        pl.col("occurred_at").dt.strftime("%Y-%m-%d %H:%M:%S%.6f"),
        "occurred_epoch",
        pl.col("local_date").cast(pl.String),
        *COLUMNS[7:],
    )
    sql = f"INSERT INTO {name} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
    driver: Any = conn.connection.dbapi_connection
    cursor = driver.cursor()
    cache = cursor.execute("PRAGMA cache_size").fetchone()[0]
    try:
        # A batch touches eight indexes of the table: with SQLite's default 2 MB of page cache it writes pages out
        # and reads them back within the statement; with room for them, a third less work (measured at 100,000).
        cursor.execute(f"PRAGMA cache_size={_STAGING_CACHE}")
        cursor.executemany(sql, out.iter_rows())
    except conn.dialect.loaded_dbapi.Error as exc:
        # The same exception classes as through Connection.execute (IntegrityError, OperationalError…).
        raise DBAPIError.instance(sql, [], exc, conn.dialect.loaded_dbapi.Error) from exc
    finally:
        cursor.execute(f"PRAGMA cache_size={int(cache)}")
        cursor.close()
