"""Many stored refunds at once, written straight to the table: for paging walks and the planner's choices."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from posrefund.adapters.db import tables
from posrefund.demo.settlement.synthetic import REFUND_REQUEST


def refund_rows(
    merchant: tuple[str, str, str], sale_id: str, count: int, start: datetime, prefix: str, **columns: Any
) -> Iterable[dict[str, Any]]:
    """``count`` approved refunds of one sale of the merchant (id, store, terminal), two by two sharing their
    creation time so that an order by time alone would be ambiguous."""
    merchant_id, store_id, terminal_id = merchant
    for i in range(count):
        at = start + timedelta(seconds=i // 2)
        yield {
            "id": f"{prefix}{i:07d}",
            "merchant_id": merchant_id,
            "store_id": store_id,
            "terminal_id": terminal_id,
            "sale_id": sale_id,
            "refund_no": f"RN{prefix}{i:07d}",
            "amount_fen": 100,
            "status": "approved",
            "channel": "card",
            "requested_by": "cashier",
            **REFUND_REQUEST,
            "created_at": at,
            "updated_at": at,
            **columns,
        }


def store_refunds(engine: Engine, rows: Iterable[dict[str, Any]], batch: int = 5000) -> None:
    """Insert the rows in batches, each in its own transaction."""
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            _insert(engine, chunk)
            chunk = []
    if chunk:
        _insert(engine, chunk)


def _insert(engine: Engine, chunk: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(tables.refunds), chunk)
