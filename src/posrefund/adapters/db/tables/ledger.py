"""The ledger: sales taken at the terminals and the refund cases made of them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from posrefund.adapters.db.tables.columns import ID, blank_string, id_key, merchant_ref, metadata, moment


def unique_where(name: str, where: str, *columns: str) -> Index:
    """A unique index over the rows ``where`` selects (a partial index, on SQLite and PostgreSQL alike)."""
    return Index(name, *columns, unique=True, sqlite_where=text(where), postgresql_where=text(where))


sales = Table(
    "sales",
    metadata,
    id_key(),
    Column("merchant_id", ID, nullable=False),
    Column("store_id", ID, nullable=False),
    Column("terminal_id", ID, nullable=False),
    Column("voucher_no", String(12), nullable=False),
    Column("rrn", String(12), nullable=False),
    Column("batch_no", String(6), nullable=False),
    Column("auth_code", String(6), nullable=False),
    Column("order_no", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("fee_fen", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    moment("paid_at"),
    Column("paid_date", Date, nullable=False),  # local (Asia/Shanghai) date, for the cashier's search
    Column("settlement_status", String(16), nullable=False),
    Column("payer_masked", String(40), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("refunded_fen", BigInteger, nullable=False, server_default="0"),
    Column("reserved_fen", BigInteger, nullable=False, server_default="0"),
    Column("refund_count", Integer, nullable=False, server_default="0"),
    moment("created_at"),
    blank_string("sold_by", 40),  # the staff member who rang the sale up ("" when the terminal did not say)
    # The channel's own transaction reference (WeChat transaction_id, Alipay trade_no) when a refund must name it:
    # a charge only the channel's file showed (kind channel_charge) has no order no. of ours to refund by.
    blank_string("channel_trade_no", 64),
    # The terminal the sale was made on, with its store and merchant: one key checks that all three belong
    # together (a sale cannot name another store's terminal) at one look-up a row, where three keys took three
    # (the bulk sales import's largest cost on PostgreSQL). Store and merchant follow through the terminal's keys.
    ForeignKeyConstraint(
        ["terminal_id", "store_id", "merchant_id"], ["terminals.id", "terminals.store_id", "terminals.merchant_id"]
    ),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    CheckConstraint("fee_fen >= 0", name="fee_not_negative"),
    CheckConstraint("refunded_fen >= 0 AND reserved_fen >= 0", name="refund_sums_not_negative"),
    CheckConstraint("refunded_fen + reserved_fen <= amount_fen", name="never_over_refunded"),
    # A card sale is its terminal's batch and voucher no.; a wallet sale (no voucher) the merchant's order no.
    unique_where("ux_sales_card_keys", "voucher_no <> ''", "terminal_id", "batch_no", "voucher_no"),
    unique_where("ux_sales_wallet_order", "voucher_no = '' AND order_no <> ''", "merchant_id", "order_no"),
    Index("ix_sales_merchant_voucher", "merchant_id", "voucher_no"),
    Index("ix_sales_merchant_order", "merchant_id", "order_no"),
    Index("ix_sales_merchant_last4_date", "merchant_id", "card_last4", "paid_date"),
    # Looked up by a settlement line's RRN.
    Index("ix_sales_merchant_rrn", "merchant_id", "rrn"),
    # Risk warnings count each cashier's sales per day; a day's sales for the refund reports' aggregates (and
    # their raw path) seek its first two columns.
    Index("ix_sales_merchant_paid_date_sold_by", "merchant_id", "paid_date", "sold_by"),
)

refunds = Table(
    "refunds",
    metadata,
    id_key(),
    merchant_ref(),
    Column("store_id", ID, nullable=False),
    Column("terminal_id", ID, nullable=False),
    Column("sale_id", ID, ForeignKey("sales.id"), nullable=False, index=True),
    Column("refund_no", String(64), nullable=False, unique=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("requested_by", ID, nullable=False),
    Column("requested_role", String(32), nullable=False),
    Column("required_approvals", Integer, nullable=False),
    Column("approved_by", Text, nullable=False),  # JSON list of reviewer ids
    Column("review_reason", Text, nullable=False),
    Column("evidence_ids", Text, nullable=False),  # JSON list
    Column("customer_phone_enc", Text, nullable=True),
    Column("customer_phone_index", String(64), nullable=True),
    Column("customer_phone_masked", String(20), nullable=False),
    Column("customer_name_enc", Text, nullable=True),
    Column("customer_name_masked", String(100), nullable=False),
    Column("customer_id_no_enc", Text, nullable=True),
    Column("customer_id_no_masked", String(24), nullable=False),
    Column("version", Integer, nullable=False),
    moment("created_at"),
    moment("updated_at"),
    blank_string("method", 16),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("submitted", Boolean, nullable=False, server_default="0"),
    blank_string("channel_refund_id", 64),
    blank_string("last_code", 64),
    moment("next_check_at", nullable=True),
    Column("checks", Integer, nullable=False, server_default="0"),
    moment("sent_at", nullable=True),
    moment("succeeded_at", nullable=True),
    Column("expected_arrival", Date, nullable=True),
    blank_string("rerouted_by", 40),  # who sent it to cash or transfer: never the one who confirms the payout
    # The fencing token of the latest claim: a worker's answer is written only under the fence it claimed with.
    Column("fence", Integer, nullable=False, server_default="0"),
    blank_string("request_id", 64),  # the API request that opened it: in the worker's log lines for the case
    # Where the money went when not back to the payer (another card's masked number, a phone): "" = the payer.
    blank_string("payee_masked", 40),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    # Every list of a merchant's refunds is read newest first by (created_at, id), the key its cursor carries:
    # each filter a list takes has an index ending in that key, so a page is a short walk whatever the history.
    Index("ix_refunds_merchant_created_id", "merchant_id", "created_at", "id"),
    Index("ix_refunds_merchant_status_created_id", "merchant_id", "status", "created_at", "id"),
    Index("ix_refunds_merchant_phone_created", "merchant_id", "customer_phone_index", "created_at", "id"),
    Index("ix_refunds_merchant_sale_created", "merchant_id", "sale_id", "created_at", "id"),
    # (also the risk warnings' read of each requester's refunds over a window)
    Index("ix_refunds_merchant_requester_created", "merchant_id", "requested_by", "created_at", "id"),
    Index("ix_refunds_due", "status", "next_check_at"),
    # Looked up by the channel's reference of a refund (a card refund's RRN) in a settlement file.
    Index("ix_refunds_merchant_channel_refund", "merchant_id", "channel_refund_id"),
)

evidence = Table(
    "evidence",
    metadata,
    id_key(),
    merchant_ref(index=True),
    Column("sha256", String(64), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("filename", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("uploaded_by", ID, nullable=False),
    moment("created_at"),
)
