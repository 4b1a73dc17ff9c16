"""The least the database must do to record a refunds file (``bench/refund_import.py``): insert one refund row
per sale into ``refunds`` with every index the table holds, and add each to its sale under the guard — the rows
built before the clock starts, written by the driver the cheapest way the database takes them (SQLite: one
``executemany`` of tuples with the import's page cache; PostgreSQL: a CSV ``COPY``, then the sums ``COPY``-ed
into a session-local table and one ``UPDATE … FROM``), then rolled back. No file read, nothing checked or
matched, no audit event, no commit: whatever the import does, it cannot go under this."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from typing import Any

from posrefund.service.reconciliation.refund_imports import NOTE

_COLUMNS = (
    "id, merchant_id, store_id, terminal_id, sale_id, refund_no, amount_fen, currency, reason, note, status, "
    "channel, requested_by, requested_role, required_approvals, approved_by, review_reason, evidence_ids, "
    "customer_phone_masked, customer_name_masked, customer_id_no_masked, version, created_at, updated_at, method, "
    "submitted, channel_refund_id, sent_at, succeeded_at"
)
_ADD = (
    "UPDATE sales SET refunded_fen = refunded_fen + ?, refund_count = refund_count + 1 "
    "WHERE id = ? AND refunded_fen + reserved_fen + ? <= amount_fen"
)
AMOUNT_FEN = 100


def write_floor(url: str, merchant_id: str, rows: int) -> dict[str, Any]:
    """Seconds and rows a second of the floor for ``rows`` refunds of the merchant's first sales."""
    if url.startswith("sqlite"):
        return _sqlite(url.removeprefix("sqlite:///"), merchant_id, rows)
    return _postgres(url.replace("postgresql+psycopg", "postgresql"), merchant_id, rows)


def _refunds(sales: list[tuple[Any, ...]], sqlite: bool) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + ("" if sqlite else "+00:00")
    return [
        (f"rfdfloor{i:012d}", m, store, term, sale, f"FLOOR{i:012d}", AMOUNT_FEN, "CNY", "other", NOTE, "succeeded",
         channel, "bench", "finance", 0, "[]", "", "[]", "", "", "", 1, now, now, "refund", 1 if sqlite else "true",
         f"FLOORCH{i:012d}", now, now)
        for i, (sale, m, store, term, channel) in enumerate(sales)
    ]  # fmt: skip


_SALES = "SELECT id, merchant_id, store_id, terminal_id, channel FROM sales WHERE merchant_id = {mark} LIMIT {n}"


def _sqlite(path: str, merchant_id: str, rows: int) -> dict[str, Any]:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        sales = conn.execute(_SALES.format(mark="?", n=rows), (merchant_id,)).fetchall()
        refunds = _refunds(sales, sqlite=True)
        adds = [(AMOUNT_FEN, s[0], AMOUNT_FEN) for s in sales]
        conn.execute("PRAGMA cache_size = -131072")
        conn.execute("BEGIN IMMEDIATE")
        t0 = time.perf_counter()
        conn.executemany(f"INSERT INTO refunds ({_COLUMNS}) VALUES ({', '.join('?' * 29)})", refunds)
        t1 = time.perf_counter()
        conn.executemany(_ADD, adds)
        t2 = time.perf_counter()
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    return _result(len(sales), t1 - t0, t2 - t1)


def _postgres(url: str, merchant_id: str, rows: int) -> dict[str, Any]:
    import csv

    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        sales = cur.execute(_SALES.format(mark="%s", n=rows), (merchant_id,)).fetchall()
        text, sums = io.StringIO(), io.StringIO()
        csv.writer(text, quoting=csv.QUOTE_ALL).writerows(_refunds(sales, sqlite=False))  # "" is a text
        csv.writer(sums).writerows((s[0], AMOUNT_FEN) for s in sales)
        cur.execute("CREATE TEMP TABLE floor_sums (sale_id text, amount bigint) ON COMMIT DROP")
        t0 = time.perf_counter()
        with cur.copy(f"COPY refunds ({_COLUMNS}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(text.getvalue().encode())
        t1 = time.perf_counter()
        with cur.copy("COPY floor_sums FROM STDIN (FORMAT csv)") as copy:
            copy.write(sums.getvalue().encode())
        cur.execute(
            "UPDATE sales SET refunded_fen = sales.refunded_fen + f.amount, refund_count = sales.refund_count + 1"
            " FROM floor_sums f WHERE sales.id = f.sale_id"
            " AND sales.refunded_fen + sales.reserved_fen + f.amount <= sales.amount_fen"
        )
        t2 = time.perf_counter()
        conn.rollback()
    return _result(len(sales), t1 - t0, t2 - t1)


def _result(rows: int, insert_s: float, update_s: float) -> dict[str, Any]:
    total = insert_s + update_s
    return {
        "rows": rows,
        "insert_refunds_s": round(insert_s, 2),
        "add_to_sales_s": round(update_s, 2),
        "seconds_without_commit": round(total, 2),
        "rows_per_second_at_most": round(rows / total) if total else None,
    }
