"""The least the database must do to record a refunds file (``bench/refund_import.py``): the import's own two
writes (``adapters/db/repositories/refund_table``), with the rows built before the clock starts — one refund row
per sale into ``refunds`` with every index the table holds (SQLite: one ``executemany`` of tuples under the
import's page cache; PostgreSQL: one CSV ``COPY``), then each sale raised under the guard by the import's own
statement (``ADD_TO_SALE``; ``add_to_sales_pg``) — then rolled back. No file read, nothing checked or matched,
no audit event, no commit: whatever the import does, it cannot go under this."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from typing import Any

import polars as pl

from posrefund.adapters.db.bulk import copy_csv
from posrefund.adapters.db.engine import make_engine
from posrefund.adapters.db.repositories.refund_table import ADD_TO_SALE, add_to_sales_pg
from posrefund.adapters.db.repositories.sale_table import batch_cache
from posrefund.service.reconciliation.refund_imports import NOTE

_COLUMNS = [
    "id", "merchant_id", "store_id", "terminal_id", "sale_id", "refund_no", "amount_fen", "currency", "reason",
    "note", "status", "channel", "requested_by", "requested_role", "required_approvals", "approved_by",
    "review_reason", "evidence_ids", "customer_phone_masked", "customer_name_masked", "customer_id_no_masked",
    "version", "created_at", "updated_at", "method", "submitted", "channel_refund_id", "sent_at", "succeeded_at",
]  # fmt: skip
AMOUNT_FEN = 100
_SALES = "SELECT id, merchant_id, store_id, terminal_id, channel FROM sales WHERE merchant_id = '{m}' LIMIT {n}"


def write_floor(url: str, merchant_id: str, rows: int) -> dict[str, Any]:
    """Seconds and rows a second of the floor for ``rows`` refunds of the merchant's first sales."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sales = conn.exec_driver_sql(_SALES.format(m=merchant_id, n=rows)).all()
            sqlite = conn.dialect.name == "sqlite"
            refunds = _refunds(sales, sqlite)
            sums = [(AMOUNT_FEN, 1, s[0], AMOUNT_FEN) for s in sales]
            text = io.BytesIO()
            if not sqlite:
                frame = pl.DataFrame(refunds, schema=_COLUMNS, orient="row")
                frame.write_csv(text, include_header=False, quote_style="always")
            per_sale = pl.DataFrame({"s_id": [s[0] for s in sales], "amount": AMOUNT_FEN, "n": 1})
            t0 = time.perf_counter()
            if sqlite:
                insert = f"INSERT INTO refunds ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
                with batch_cache(conn.connection.dbapi_connection) as cursor:
                    cursor.executemany(insert, refunds)
                    t1 = time.perf_counter()
                    cursor.executemany(ADD_TO_SALE, sums)
            else:
                copy_csv(conn, "refunds", _COLUMNS, text.getvalue())
                t1 = time.perf_counter()
                add_to_sales_pg(conn, per_sale)
            t2 = time.perf_counter()
            conn.rollback()
    finally:
        engine.dispose()
    return _result(len(sales), t1 - t0, t2 - t1)


def _refunds(sales: Any, sqlite: bool) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + ("" if sqlite else "+00:00")
    return [
        (f"rfdfloor{i:012d}", m, store, term, sale, f"FLOOR{i:012d}", AMOUNT_FEN, "CNY", "other", NOTE, "succeeded",
         channel, "bench", "finance", 0, "[]", "", "[]", "", "", "", 1, now, now, "refund", 1 if sqlite else "true",
         f"FLOORCH{i:012d}", now, now)
        for i, (sale, m, store, term, channel) in enumerate(sales)
    ]  # fmt: skip


def _result(rows: int, insert_s: float, update_s: float) -> dict[str, Any]:
    total = insert_s + update_s
    return {
        "rows": rows,
        "insert_refunds_s": round(insert_s, 2),
        "add_to_sales_s": round(update_s, 2),
        "seconds_without_commit": round(total, 2),
        "rows_per_second_at_most": round(rows / total) if total else None,
    }
