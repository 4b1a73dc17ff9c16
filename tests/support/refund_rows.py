"""Many stored refunds, sales and audit events at once, written straight to the tables: for paging walks, the
planner's choices (tests/integration/test_query_plans.py) and the growth bench (bench/growth.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, insert

from posrefund.adapters.db import tables
from posrefund.adapters.db.bulk import copy_rows
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
    store(engine, tables.refunds, rows, batch)


def store(engine: Engine, table: Table, rows: Iterable[dict[str, Any]], batch: int = 5000) -> None:
    """Insert the rows in batches, each in its own transaction."""
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            _insert(engine, table, chunk)
            chunk = []
    if chunk:
        _insert(engine, table, chunk)


def _insert(engine: Engine, table: Table, chunk: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            copy_rows(conn, table.name, chunk)  # the growth bench's tens of millions of rows
        else:
            conn.execute(insert(table), chunk)


@dataclass(frozen=True)
class Growth:
    """A merchant's history: its sales, refunds (spread over the sales) and the cases with audit events."""

    sales: int
    refunds: int
    cases_with_events: int
    start: datetime
    events_per_case: int = 6


def grow(engine: Engine, merchant: tuple[str, str, str], prefix: str, size: Growth) -> None:
    """Store a merchant's history: sales ``{prefix}000042``, refunds ``{prefix}R0000042``."""
    store(engine, tables.sales, grown_sales(merchant, prefix, size))
    store(engine, tables.refunds, grown_refunds(merchant, prefix, size))
    store(engine, tables.audit_events, grown_events(merchant[0], prefix, size))


def grown_sales(merchant: tuple[str, str, str], prefix: str, size: Growth) -> Iterator[dict[str, Any]]:
    merchant_id, store_id, terminal_id = merchant
    for i in range(size.sales):
        at = size.start + timedelta(seconds=i)
        yield {
            "id": f"{prefix}{i:06d}",
            "merchant_id": merchant_id,
            "store_id": store_id,
            "terminal_id": terminal_id,
            "voucher_no": f"{i:06d}",
            "rrn": f"{prefix}R{i:010d}",
            "batch_no": "000001",
            "auth_code": "",
            "order_no": f"{prefix}O{i:08d}",
            "channel": "card",
            "kind": "sale",
            "amount_fen": 100_000,
            "fee_fen": 0,
            "currency": "CNY",
            "paid_at": at,
            "paid_date": at.date(),
            "settlement_status": "settled",
            "payer_masked": "622848******1234",
            "card_last4": "1234",
            "refunded_fen": 0,
            "reserved_fen": 0,
            "refund_count": 0,
            "created_at": at,
        }


def grown_refunds(merchant: tuple[str, str, str], prefix: str, size: Growth) -> Iterator[dict[str, Any]]:
    """Refunds spread over the sales, 200 cashiers, every status, and customers' phones (three refunds a phone,
    on at least 3,000 phones): a look-up by phone finds as many refunds whatever the size of the history."""
    phones = phones_of(size)
    statuses = ("approved", "succeeded", "processing", "rejected", "failed", "pending_review")
    for i, row in enumerate(refund_rows(merchant, "", size.refunds, size.start, f"{prefix}R")):
        yield {
            **row,
            "sale_id": f"{prefix}{i % size.sales:06d}",
            "requested_by": f"cashier{i % 200}",
            "customer_phone_index": f"phone{i % phones}",
            "status": statuses[i % len(statuses)],
        }


def phones_of(size: Growth) -> int:
    """How many customers' phones the grown refunds are spread over."""
    return max(3_000, size.refunds // 3)


def grown_events(chain: str, prefix: str, size: Growth) -> Iterator[dict[str, Any]]:
    """The merchant's audit chain: each case's events interleaved with every other case's."""
    cases = size.cases_with_events
    for seq in range(1_000, 1_000 + cases * size.events_per_case):  # after the chain's own first events
        yield {
            "chain": chain,
            "seq": seq,
            "case_id": f"{prefix}R{seq % cases:07d}",
            "action": "refund.checked",
            "actor_id": "worker",
            "actor_role": "system",
            "at": size.start + timedelta(seconds=seq),
            "before": None,
            "after": None,
            "reason": "",
            "data": json.dumps({}),
            "prev_hash": "0" * 64,
            "hash": "0" * 64,
        }
