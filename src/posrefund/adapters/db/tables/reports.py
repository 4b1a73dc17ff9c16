"""Refund reports' daily aggregates: per local day, merchant, currency, store and channel, one row per value of
each stored dimension (docs/reports.md). They are rebuilt from the cases for every day named in
``report_changes``, which the refund and sale repositories append to in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Date, Index, PrimaryKeyConstraint, String, Table

from posrefund.adapters.db.tables.columns import ID, auto_id, metadata
from posrefund.domain.reports import COUNT_FIELDS, WAIT_COLUMNS


def _counts(names: tuple[str, ...]) -> list[Column[Any]]:
    return [Column(name, BigInteger, nullable=False, server_default="0") for name in names]


report_refund_days = Table(
    "report_refund_days",
    metadata,
    Column("merchant_id", ID, nullable=False),
    Column("dimension", String(16), nullable=False),
    Column("day", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("store_id", ID, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("value", String(40), nullable=False),
    *_counts(COUNT_FIELDS),
    *_counts(WAIT_COLUMNS),
    # A month of one dimension is one range of the key: read without touching the other dimensions' rows.
    PrimaryKeyConstraint("merchant_id", "dimension", "day", "currency", "store_id", "channel", "value"),
)

report_sale_days = Table(
    "report_sale_days",
    metadata,
    Column("merchant_id", ID, nullable=False),
    Column("day", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("store_id", ID, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("terminal_id", ID, nullable=False),
    *_counts(("sales", "sales_fen")),
    PrimaryKeyConstraint("merchant_id", "day", "currency", "store_id", "channel", "terminal_id"),
)

# Append-only (no row is ever updated, so no writer waits on another's): the days whose cases or sales changed
# since the aggregates were last rebuilt. A rebuild deletes the rows it takes, in its own transaction.
report_changes = Table(
    "report_changes",
    metadata,
    auto_id(),
    Column("merchant_id", ID, nullable=False),
    Column("day", Date, nullable=False),
    Index("ix_report_changes_merchant_id", "merchant_id"),
)
