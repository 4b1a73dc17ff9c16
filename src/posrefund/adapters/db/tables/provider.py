"""The provider's desk: its seller record, the terminals it issued to merchants, device returns (退机) and the
notices left for merchants and the provider's administrators."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from posrefund.adapters.db.tables.columns import (
    ID,
    auto_id,
    blank_string,
    blank_text,
    id_key,
    merchant_ref,
    metadata,
    moment,
)

provider_desks = Table(
    "provider_desks",
    metadata,
    Column("provider_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("seller_merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("terminal_id", ID, ForeignKey("terminals.id"), nullable=False),
    Column("created_by", ID, nullable=False),
    moment("created_at"),
)

provider_devices = Table(
    "provider_devices",
    metadata,
    id_key(),
    Column("provider_id", String(32), nullable=False),
    Column("sn", String(64), nullable=False, unique=True),
    Column("model", String(64), nullable=False),
    merchant_ref(),
    Column("state", String(16), nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("shipped_on", Date, nullable=True),
    Column("signed_on", Date, nullable=True),
    Column("activated_on", Date, nullable=True),
    Column("price_fen", Integer, nullable=False),
    Column("charge_kind", String(16), nullable=False),
    Column("charge_fen", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("route", String(16), nullable=False),
    Column("sale_id", ID, ForeignKey("sales.id"), nullable=False),
    Column("warranty_months", Integer, nullable=False),
    Column("replaces_id", ID, nullable=True),
    Column("replaced_by_id", ID, nullable=True),
    moment("deactivated_at", nullable=True),
    Column("version", Integer, nullable=False),
    moment("created_at"),
    moment("updated_at"),
    Index("ix_provider_devices_provider_id_merchant_id", "provider_id", "merchant_id"),
)

device_returns = Table(
    "device_returns",
    metadata,
    id_key(),
    Column("provider_id", String(32), nullable=False),
    merchant_ref(),
    Column("device_id", ID, ForeignKey("provider_devices.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("reason", String(16), nullable=False),
    blank_text("fault_note"),
    Column("refund_to_other_account", Boolean, nullable=False),
    Column("documents", Text, nullable=False),
    Column("opened_by", ID, nullable=False),
    moment("opened_at"),
    blank_string("ship_address", 400),
    blank_string("courier", 40),
    blank_string("tracking_no", 40),
    moment("shipping_approved_at", nullable=True),
    moment("received_at", nullable=True),
    blank_string("inspection", 16),
    blank_text("inspection_note"),
    Column("due_on", Date, nullable=True),
    moment("escalated_at", nullable=True),
    moment("breached_at", nullable=True),
    blank_string("decision", 20),
    blank_text("decision_reason"),
    Column("deductions", Text, nullable=False),
    Column("refund_fen", Integer, nullable=False),
    Column("refund_case_id", ID, ForeignKey("refunds.id"), nullable=True),
    Column("replacement_id", ID, nullable=True),
    blank_string("decided_by", 40),
    moment("decided_at", nullable=True),
    Column("version", Integer, nullable=False),
    moment("updated_at"),
    Index("ix_device_returns_provider_id_status", "provider_id", "status"),
    Index("ix_device_returns_refund_case_id", "refund_case_id"),  # every paid refund asks: a device's?
)

provider_notices = Table(
    "provider_notices",
    metadata,
    auto_id(),
    Column("provider_id", String(32), nullable=False),
    Column("merchant_id", ID, nullable=False),
    Column("audience", String(16), nullable=False),
    Column("return_id", ID, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("params", Text, nullable=False),
    moment("created_at"),
    Index("ix_provider_notices_provider_id_audience", "provider_id", "audience"),
)
