"""The run's two sides, read from the operational database in bulk and loaded into DuckDB in Arrow batches.

Only the columns the rules compare leave the database, already reduced to integers, short texts and the line's
local day in the SELECT (no instant goes through Python). The rows go around SQLAlchemy's result objects: on
PostgreSQL the SELECT is a ``COPY … TO STDOUT`` of CSV that Arrow parses as it streams; on SQLite the driver's
cursor hands plain tuples, ``FETCH`` at a time, that polars turns into columns. A run over a million lines and a
million sales costs streamed reads, not a million Python row objects (measured at 1,000,000: the load was most of
the run's time when each row went through SQLAlchemy's ``Row`` and was zipped into columns in Python).
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import date
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, Select, and_, case, exists, literal, or_, select

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.recon_scope import L, R, S, local_bounds, run_scope
from posrefund.domain.reconciliation import SOURCE_CHANNELS, Source
from posrefund.ports import RunSpec

BATCH = 50_000
# Rows a fetch from SQLite holds as Python tuples at once: a tuple of fifteen texts and integers is ~1 KB, so a
# batch of BATCH would be ~50 MB beside DuckDB's own memory for a moment; a fifth of it costs no more time.
FETCH = 10_000
_TM = t.terminals.c
_H = t.fund_holds.c
_O = t.fund_hold_operations.c

TEXT, INT, DAY = pa.string(), pa.int64(), pa.date32()
FLAG = INT  # 1 / 0: what both databases give a CASE

# name: (type, DuckDB type) per column of each table, in the order the SELECTs give them.
SCHEMAS: dict[str, tuple[tuple[str, pa.DataType], ...]] = {
    "l": (
        ("id", INT),
        ("kind", TEXT),
        ("epoch", INT),
        ("amount", INT),
        ("fee", INT),
        ("settled", INT),
        ("terminal_no", TEXT),
        ("voucher_no", TEXT),
        ("rrn", TEXT),
        ("trade_no", TEXT),
        ("order_no", TEXT),
        ("refund_no", TEXT),
        ("status", TEXT),
        ("card_type", TEXT),
        ("day", DAY),
    ),
    "s": (
        ("id", TEXT),
        ("channel", TEXT),
        ("amount", INT),
        ("rrn", TEXT),
        ("order_no", TEXT),
        ("voucher_no", TEXT),
        ("terminal_no", TEXT),
        ("voided", FLAG),
        ("hold", FLAG),
    ),
    # Our completions of holds the channel has not confirmed to us (asked, unanswered, unresolved, declined), with
    # the references a completion line may carry: Alipay's out_trade_no (= the operation's number); the card
    # message's trace, batch and RRN as far as the terminal's journal knows them.
    # Also each completion cancel (预授权完成撤销) the acquirer executed: the void line it is on names it.
    "h": (
        ("id", TEXT),
        ("step", TEXT),
        ("status", TEXT),
        ("amount", INT),
        ("order_no", TEXT),
        ("terminal_no", TEXT),
        ("voucher_no", TEXT),
        ("rrn", TEXT),
    ),
    "r": (
        ("id", TEXT),
        ("sale_id", TEXT),
        ("amount", INT),
        ("refund_no", TEXT),
        ("channel_refund_id", TEXT),
        ("status", TEXT),
        ("method", TEXT),
        ("in_run", FLAG),
        ("sale_rrn", TEXT),
        ("sale_voucher_no", TEXT),
        ("sale_terminal_no", TEXT),
        ("sale_order_no", TEXT),
    ),
}
# The findings, as the rules write them (``rules.F_COLUMNS``); the fee step appends its own in these columns.
FINDINGS = (
    ("class", TEXT),
    ("line_id", INT),
    ("sale_id", TEXT),
    ("refund_id", TEXT),
    ("other_line_id", INT),
    ("ours_fen", INT),
    ("theirs_fen", INT),
    ("ours_status", TEXT),
    ("theirs_status", TEXT),
)
_DUCK_TYPES = {INT: "BIGINT", TEXT: "VARCHAR", DAY: "DATE"}
_POLARS_TYPES = {INT: pl.Int64, TEXT: pl.String, DAY: pl.String}  # SQLite gives a day as its ISO text
# Bytes of CSV Arrow parses at a time (PostgreSQL): 4 MiB blocks made the run's peak at a million lines 622.6 MiB,
# 1 MiB 589.6, for the same time within the noise.
_CSV_BLOCK = 1 << 20


def _flag(condition: Any) -> Any:
    return case((condition, literal(1)), else_=literal(0))


def selects(spec: RunSpec) -> dict[str, Select[Any]]:
    """What each DuckDB table is filled from: the run's lines, its sales, and the channel's online refunds with
    the references of their sales."""
    sc = run_scope(spec)
    lines = select(
        L.id,
        L.kind,
        L.occurred_epoch,
        L.amount_fen,
        L.fee_fen,
        L.settled_fen,
        L.terminal_no,
        L.voucher_no,
        L.rrn,
        L.channel_trade_no,
        L.merchant_order_no,
        L.merchant_refund_no,
        L.refund_status,
        L.card_type,
        L.local_date,
    ).where(sc.lines)
    sales = (
        select(
            S.id,
            S.channel,
            S.amount_fen,
            S.rrn,
            S.order_no,
            S.voucher_no,
            _TM.terminal_no,
            _flag(_voided()),
            _flag(_completion_sale(spec.merchant_id)),
        )
        .select_from(t.sales.outerjoin(t.terminals, _TM.id == S.terminal_id))
        .where(sc.sales)
    )
    start, end = local_bounds(spec.date_from, spec.date_to)
    in_run = and_(R.succeeded_at.is_not(None), R.succeeded_at >= start, R.succeeded_at < end)
    refunds = (
        select(
            R.id,
            R.sale_id,
            R.amount_fen,
            R.refund_no,
            R.channel_refund_id,
            R.status,
            R.method,
            _flag(in_run),
            S.rrn,
            S.voucher_no,
            _TM.terminal_no,
            S.order_no,
        )
        .select_from(t.refunds.outerjoin(t.sales, S.id == R.sale_id).outerjoin(t.terminals, _TM.id == S.terminal_id))
        .where(sc.refunds)
    )
    return {"l": lines, "s": sales, "r": refunds}


def _voided() -> Any:
    """A sale voided by a void of ours, or by the channel's word (a cancelled card completion's sale)."""
    rv = t.refunds.alias("rv").c
    return or_(
        exists().where(rv.sale_id == S.id, rv.method == "void", rv.status == "succeeded"),
        S.settlement_status == "voided",
    )


def _completion_sale(merchant_id: str) -> Any:
    """The sale a hold's completion became: the hold names it (a card completion), or its order no. is the number
    of one of the hold's completions (an Alipay conversion's out_trade_no).

    Each is a set the database builds once per run (the merchant's holds, its completions), not a search per sale:
    no index of the holds leads with the sale, and searched per sale a merchant with 50,000 deposits made a run
    over a million sales walk 5 × 10¹⁰ holds."""
    held = S.id.in_(select(_H.sale_id).where(_H.merchant_id == merchant_id, _H.sale_id != ""))
    converted = S.order_no.in_(select(_O.operation_no).where(_O.merchant_id == merchant_id, _O.step == "complete"))
    return or_(held, converted)


def _open_completions(spec: RunSpec) -> Select[Any]:
    """The merchant's completions of holds of the run's channel that did not succeed (their details parsed by
    ``_completion_row``)."""
    channels = SOURCE_CHANNELS[Source(spec.source)]
    return (
        select(_O.id, _O.step, _O.status, _O.amount_fen, _O.operation_no, _H.terminal_no, _O.details)
        .select_from(t.fund_hold_operations.join(t.fund_holds, _H.id == _O.hold_id))
        .where(
            _O.merchant_id == spec.merchant_id,
            _H.channel.in_(channels),
            or_(
                and_(_O.step == "complete", _O.status != "succeeded"),
                and_(_O.step == "cancel_completion", _O.status == "succeeded"),
            ),
        )
    )


def _completion_row(row: Any) -> tuple[Any, ...]:
    op_id, step, status, amount, number, terminal_no, details = row
    told = json.loads(details or "{}")
    refs = (str(told.get("stan", "")), str(told.get("trade_no", "")))
    return op_id, step, status, amount, number, terminal_no, *refs


def create_tables(duck: duckdb.DuckDBPyConnection) -> None:
    for name, columns in (*SCHEMAS.items(), ("f", FINDINGS)):
        duck.execute(f"CREATE TABLE {name} ({', '.join(f'{col} {_DUCK_TYPES[kind]}' for col, kind in columns)})")
    duck.execute("CREATE TABLE m (line_id BIGINT, sale_id VARCHAR, refund_id VARCHAR)")


def load(conn: Connection, duck: duckdb.DuckDBPyConnection, spec: RunSpec) -> None:
    """Stream each side from the operational database into its DuckDB table."""
    create_tables(duck)
    read = _copied if conn.dialect.name == "postgresql" else _fetched
    for name, query in selects(spec).items():
        schema = pa.schema(SCHEMAS[name])
        batches = (batch for table in read(conn, query, schema) for batch in table.to_batches())
        _insert(duck, name, pa.RecordBatchReader.from_batches(schema, batches))
    open_completions = [_completion_row(r) for r in conn.execute(_open_completions(spec))]  # few: read at once
    append(duck, "h", pa.schema(SCHEMAS["h"]), open_completions)


def _compiled(conn: Connection, query: Select[Any]) -> tuple[str, Any]:
    """The SELECT as the driver's text and parameters (its IN lists written out)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if compiled.positiontup is None:
        return str(compiled), params
    return str(compiled), [_plain(params[name]) for name in compiled.positiontup]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _fetched(conn: Connection, query: Select[Any], schema: pa.Schema) -> Iterator[pa.Table]:
    """SQLite: the rows from the driver's cursor on the connection's transaction, ``FETCH`` at a time, as Arrow."""
    sql, params = _compiled(conn, query)
    types = {field.name: _POLARS_TYPES[field.type] for field in schema}
    driver: Any = conn.connection.dbapi_connection
    with closing(driver.cursor()) as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH):
            frame = pl.DataFrame(rows, schema=types, orient="row")
            yield frame.to_arrow().cast(schema)


def _copied(conn: Connection, query: Select[Any], schema: pa.Schema) -> Iterator[pa.Table]:
    """PostgreSQL: ``COPY (the SELECT) TO STDOUT`` as CSV on the connection's transaction, parsed by Arrow as it
    arrives. COPY writes NULL unquoted and an empty text quoted: the two stay apart."""
    sql, params = _compiled(conn, query)
    driver: Any = conn.connection.dbapi_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
        blocks = iter(copy)
        first = next(blocks, None)
        if first is None:  # no rows: Arrow refuses an empty CSV
            return
        reader = pa_csv.open_csv(
            io.BufferedReader(_Stream(itertools.chain((first,), blocks)), _CSV_BLOCK),
            read_options=pa_csv.ReadOptions(column_names=schema.names, block_size=_CSV_BLOCK),
            convert_options=pa_csv.ConvertOptions(
                column_types=schema, strings_can_be_null=True, quoted_strings_can_be_null=False
            ),
        )
        for batch in reader:
            yield pa.Table.from_batches([batch], schema=schema)


class _Stream(io.RawIOBase):
    """The blocks of a COPY as a file Arrow's CSV reader can read (behind a ``BufferedReader``: a COPY block is one
    row, and Arrow parses each read as a block of its own, so each read must be whole megabytes)."""

    def __init__(self, blocks: Iterator[Any]) -> None:
        self._blocks, self._rest = blocks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._rest = bytes(block)
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def append(duck: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema, rows: Sequence[Any]) -> None:
    """``rows`` (tuples in the order of ``schema``) into DuckDB's table ``name``, as one Arrow batch."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    batch = pa.table(
        [pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)], schema=schema
    )
    _insert(duck, name, batch)


def _insert(duck: duckdb.DuckDBPyConnection, name: str, data: pa.Table | pa.RecordBatchReader) -> None:
    """Rows into DuckDB's table ``name`` in one INSERT; a reader's batches are pulled as they come (a side loaded so
    took a third of the time of one INSERT per batch: 1.1 against 3.4 s at a million lines)."""
    duck.register("incoming", data)
    try:
        duck.execute(f"INSERT INTO {name} SELECT * FROM incoming")  # noqa: S608 - one of the names of SCHEMAS
    finally:
        duck.unregister("incoming")
