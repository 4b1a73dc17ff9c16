"""The reconciliation desk's tables: acquirer layouts stored per merchant (``settlement_mappings``) and the
cashier's end-of-shift till checks (``till_checks``) with the merchant's tolerance (``till_tolerances``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from posrefund.adapters.db.tables.columns import (
    ID,
    blank_string,
    blank_text,
    changed_by,
    id_key,
    merchant_ref,
    metadata,
    moment,
)

settlement_mappings = Table(
    "settlement_mappings",
    metadata,
    merchant_ref(primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("spec", Text, nullable=False),  # JSON: domain.settlement_mapping.MappingSpec.as_dict()
    Column("created_by", ID, nullable=False),
    moment("created_at"),
    *changed_by(),
    Column("version", Integer, nullable=False),
)

till_tolerances = Table(
    "till_tolerances",
    metadata,
    merchant_ref(primary_key=True),
    Column("tolerance_fen", BigInteger, nullable=False),
    *changed_by(),
)

till_checks = Table(
    "till_checks",
    metadata,
    id_key(),
    merchant_ref(),
    Column("terminal_id", ID, ForeignKey("terminals.id"), nullable=False),
    Column("cashier_id", ID, nullable=False),
    moment("opened_at"),
    moment("closed_at"),
    Column("float_fen", BigInteger, nullable=False),
    Column("counted_fen", BigInteger, nullable=False),
    blank_text("denominations"),  # JSON {face value in fen: pieces}, "" when the total was entered
    Column("cash_sales_fen", BigInteger, nullable=False),
    Column("cash_refunds_fen", BigInteger, nullable=False),
    Column("expected_fen", BigInteger, nullable=False),
    Column("difference_fen", BigInteger, nullable=False),
    Column("tolerance_fen", BigInteger, nullable=False),
    Column("transactions", Text, nullable=False),  # JSON {"sales": [...], "refunds": [...]} of the shift
    Column("status", String(16), nullable=False),
    blank_string("investigation", 16),  # "" / open / closed: the 错收 investigation of a difference
    blank_text("investigation_note"),
    Column("counted_by", ID, nullable=False),
    moment("counted_at"),
    blank_string("signed_off_by", 40),
    moment("signed_off_at", nullable=True),
    blank_text("sign_off_note"),
    Column("version", Integer, nullable=False),
    UniqueConstraint("terminal_id", "opened_at"),
    Index("ix_till_checks_merchant_counted_at", "merchant_id", "counted_at"),
)
