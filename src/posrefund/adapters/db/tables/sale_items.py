"""A sale's item lines (商品明细) and the units of them each refund covers."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Integer, String, Table

from posrefund.adapters.db.tables.columns import ID, case_ref, metadata

sale_items = Table(
    "sale_items",
    metadata,
    Column("sale_id", ID, ForeignKey("sales.id"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_fen", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    # Units refunded, and units held by refunds still under way: like the sale's refunded/reserved fen.
    Column("refunded_qty", Integer, nullable=False, server_default="0"),
    Column("reserved_qty", Integer, nullable=False, server_default="0"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("amount_fen >= 0 AND unit_price_fen >= 0", name="amounts_not_negative"),
    CheckConstraint("refunded_qty >= 0 AND reserved_qty >= 0", name="units_not_negative"),
    CheckConstraint("refunded_qty + reserved_qty <= quantity", name="never_over_refunded"),
)

refund_items = Table(
    "refund_items",
    metadata,
    case_ref(primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("sale_id", ID, ForeignKey("sales.id"), nullable=False, index=True),
    Column("quantity", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
)
