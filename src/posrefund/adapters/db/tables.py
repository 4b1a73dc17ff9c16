"""The schema, in SQLAlchemy Core. Alembic migrations build it; the tables here are their mirror."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which stores naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: times are timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    @staticmethod
    def sqlite_text(value: datetime | None) -> str | None:
        """What ``process_bind_param`` and SQLite's DATETIME make of a value, in one C call (prebuilt.py)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: times are timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


naming = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=naming)

ID = String(40)

merchants = Table(
    "merchants",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("contact_phone", String(40), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

stores = Table(
    "stores",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("address", String(400), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

terminals = Table(
    "terminals",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("terminal_no", String(16), nullable=False),
    Column("device_sn", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("merchant_id", "terminal_no"),
)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=True, index=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("terminal_id", ID, ForeignKey("terminals.id"), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

policies = Table(
    "policies",
    metadata,
    Column("merchant_id", ID, ForeignKey("merchants.id"), primary_key=True),
    Column("document", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_by", ID, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sales = Table(
    "sales",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("terminal_id", ID, ForeignKey("terminals.id"), nullable=False),
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
    Column("paid_at", UTCDateTime, nullable=False),
    Column("paid_date", Date, nullable=False),  # local (Asia/Shanghai) date, for the cashier's search
    Column("settlement_status", String(16), nullable=False),
    Column("payer_masked", String(40), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("refunded_fen", BigInteger, nullable=False, server_default="0"),
    Column("reserved_fen", BigInteger, nullable=False, server_default="0"),
    Column("refund_count", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    CheckConstraint("fee_fen >= 0", name="fee_not_negative"),
    CheckConstraint("refunded_fen >= 0 AND reserved_fen >= 0", name="refund_sums_not_negative"),
    CheckConstraint("refunded_fen + reserved_fen <= amount_fen", name="never_over_refunded"),
    UniqueConstraint("terminal_id", "batch_no", "voucher_no"),
    Index("ix_sales_merchant_voucher", "merchant_id", "voucher_no"),
    Index("ix_sales_merchant_order", "merchant_id", "order_no"),
    Index("ix_sales_merchant_last4_date", "merchant_id", "card_last4", "paid_date"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
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
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("method", String(16), nullable=False, server_default=""),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("submitted", Boolean, nullable=False, server_default="0"),
    Column("channel_refund_id", String(64), nullable=False, server_default=""),
    Column("last_code", String(64), nullable=False, server_default=""),
    Column("next_check_at", UTCDateTime, nullable=True),
    Column("checks", Integer, nullable=False, server_default="0"),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("succeeded_at", UTCDateTime, nullable=True),
    Column("expected_arrival", Date, nullable=True),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    Index("ix_refunds_merchant_status_created", "merchant_id", "status", "created_at"),
    Index("ix_refunds_merchant_created", "merchant_id", "created_at"),
    Index("ix_refunds_merchant_phone", "merchant_id", "customer_phone_index"),
    Index("ix_refunds_due", "status", "next_check_at"),
)

callback_notices = Table(
    "callback_notices",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("notice_id", String(128), primary_key=True),
    Column("refund_no", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

calendar_overrides = Table(
    "calendar_overrides",
    metadata,
    Column("day", Date, primary_key=True),
    Column("workday", Boolean, nullable=False),
    Column("note", String(200), nullable=False, server_default=""),
    Column("updated_by", ID, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("filename", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("uploaded_by", ID, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

audit_heads = Table(
    "audit_heads",
    metadata,
    Column("chain", String(40), primary_key=True),  # merchant id, or "platform"
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("chain", String(40), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("case_id", ID, nullable=True),
    Column("action", String(64), nullable=False),
    Column("actor_id", ID, nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("before", String(20), nullable=True),
    Column("after", String(20), nullable=True),
    Column("reason", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("chain", "seq"),
    Index("ix_audit_events_chain_case", "chain", "case_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("topic", String(64), nullable=False),
    Column("merchant_id", ID, nullable=False),
    Column("case_id", ID, nullable=True),
    Column("payload", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("available_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("done_at", UTCDateTime, nullable=True),
    Index("ix_outbox_pending", "done_at", "available_at"),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("scope", String(40), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# ---- recon (issue 6): settlement files, staged lines, reconciliation runs and results, wrong charges ----
AUTO_ID = BigInteger().with_variant(Integer, "sqlite")

settlement_files = Table(
    "settlement_files",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("source", String(16), nullable=False),  # card / wechat / alipay
    Column("fingerprint", String(64), nullable=False),  # SHA-256 of the whole file: the same file is recognised
    Column("filename", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("line_count", Integer, nullable=False),
    Column("bad_count", Integer, nullable=False),
    Column("first_date", Date, nullable=True),
    Column("last_date", Date, nullable=True),
    Column("imported_by", ID, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    UniqueConstraint("merchant_id", "fingerprint"),
)

settlement_lines = Table(
    "settlement_lines",
    metadata,
    Column("id", AUTO_ID, primary_key=True, autoincrement=True),
    Column("file_id", ID, nullable=False),
    Column("merchant_id", ID, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("kind", String(8), nullable=False),  # sale / refund / void
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("occurred_epoch", BigInteger, nullable=False),  # seconds: the duplicate window is integer maths
    Column("local_date", Date, nullable=False),  # Asia/Shanghai settlement date
    Column("amount_fen", BigInteger, nullable=False),
    Column("fee_fen", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("merchant_no", String(32), nullable=False),
    Column("terminal_no", String(32), nullable=False),
    Column("voucher_no", String(16), nullable=False),
    Column("rrn", String(32), nullable=False),
    Column("channel_trade_no", String(64), nullable=False),
    Column("merchant_order_no", String(64), nullable=False),
    Column("channel_refund_no", String(64), nullable=False),
    Column("merchant_refund_no", String(64), nullable=False),
    Column("refund_status", String(16), nullable=False),
    Column("payer_masked", String(64), nullable=False),
    Column("batch_no", String(12), nullable=False),
    Column("raw_hash", String(64), nullable=False),
    Index("ix_settlement_lines_file_date", "file_id", "local_date"),
    Index("ix_settlement_lines_rrn", "merchant_id", "rrn"),
    Index("ix_settlement_lines_order", "merchant_id", "merchant_order_no"),
    Index("ix_settlement_lines_voucher", "merchant_id", "voucher_no", "terminal_no", "amount_fen"),
    Index("ix_settlement_lines_refund_no", "merchant_id", "merchant_refund_no"),
    Index("ix_settlement_lines_payer", "merchant_id", "payer_masked", "amount_fen", "terminal_no", "occurred_epoch"),
)

settlement_bad_lines = Table(
    "settlement_bad_lines",
    metadata,
    Column("id", AUTO_ID, primary_key=True, autoincrement=True),
    Column("file_id", ID, nullable=False, index=True),
    Column("line_no", Integer, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("excerpt", String(200), nullable=False),  # card numbers already replaced by [PAN]
)

recon_fee_rates = Table(
    "recon_fee_rates",
    metadata,
    Column("merchant_id", ID, ForeignKey("merchants.id"), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("rate_bp", Integer, nullable=False),
    Column("large_rate_bp", Integer, nullable=True),
    Column("large_from_fen", BigInteger, nullable=True),
    Column("updated_by", ID, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

recon_runs = Table(
    "recon_runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("source", String(16), nullable=False),
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=False),
    Column("run_key", String(64), nullable=False),  # channel + date range + file set
    Column("file_ids", Text, nullable=False),  # JSON list
    Column("window_seconds", Integer, nullable=False),
    Column("totals", Text, nullable=False),  # JSON
    Column("created_by", ID, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("merchant_id", "run_key"),
)

recon_matches = Table(  # scratch: filled and emptied inside one run's transaction
    "recon_matches",
    metadata,
    Column("run_id", ID, nullable=False),
    Column("line_id", BigInteger, nullable=False),
    Column("sale_id", ID, nullable=False, server_default=""),
    Column("refund_id", ID, nullable=False, server_default=""),
    Index("ix_recon_matches_line", "run_id", "line_id"),
    Index("ix_recon_matches_sale", "run_id", "sale_id"),
    Index("ix_recon_matches_refund", "run_id", "refund_id"),
)

recon_found = Table(  # scratch: this run's findings before they are merged into recon_discrepancies
    "recon_found",
    metadata,
    Column("run_id", ID, nullable=False),
    Column("class", String(32), nullable=False),
    Column("line_id", BigInteger, nullable=False),
    Column("sale_id", ID, nullable=False),
    Column("refund_id", ID, nullable=False),
    Column("other_line_id", BigInteger, nullable=False),
    Column("ours_fen", BigInteger, nullable=True),
    Column("theirs_fen", BigInteger, nullable=True),
    Column("ours_status", String(20), nullable=False),
    Column("theirs_status", String(16), nullable=False),
    Index("ix_recon_found_key", "run_id", "class", "line_id", "sale_id", "refund_id"),
)

recon_discrepancies = Table(
    "recon_discrepancies",
    metadata,
    Column("id", AUTO_ID, primary_key=True, autoincrement=True),
    Column("run_id", ID, nullable=False),
    Column("merchant_id", ID, nullable=False),
    Column("class", String(32), nullable=False),
    Column("line_id", BigInteger, nullable=False),  # 0: none
    Column("sale_id", ID, nullable=False),  # "": none
    Column("refund_id", ID, nullable=False),  # "": none
    Column("other_line_id", BigInteger, nullable=False),  # the earlier twin of a duplicate charge
    Column("ours_fen", BigInteger, nullable=True),
    Column("theirs_fen", BigInteger, nullable=True),
    Column("ours_status", String(20), nullable=False),
    Column("theirs_status", String(16), nullable=False),
    Column("found_at", UTCDateTime, nullable=False),
    Column("cleared_at", UTCDateTime, nullable=True),  # a later run no longer found it (fixed meanwhile)
    Column("resolution", String(32), nullable=False, server_default=""),  # recovered / wrong_charge
    Column("wrong_charge_id", ID, nullable=False, server_default=""),
    UniqueConstraint("run_id", "class", "line_id", "sale_id", "refund_id"),
    Index("ix_recon_discrepancies_run_class", "run_id", "class", "id"),
)

# Ledger look-ups by the channels' references: a settlement line's RRN, a refund's channel reference.
Index("ix_sales_merchant_rrn", sales.c.merchant_id, sales.c.rrn)
Index("ix_refunds_merchant_channel_refund", refunds.c.merchant_id, refunds.c.channel_refund_id)

wrong_charges = Table(
    "wrong_charges",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False, index=True),
    Column("discrepancy_id", BigInteger, nullable=False, unique=True),
    Column("run_id", ID, nullable=False),
    Column("class", String(32), nullable=False),
    Column("sale_id", ID, nullable=False),
    Column("line_id", BigInteger, nullable=False),
    Column("evidence_ids", Text, nullable=False),  # JSON list of uploaded evidence (receipt, messages)
    Column("cause", String(32), nullable=False),
    Column("responsible", String(32), nullable=False),
    Column("analysis", Text, nullable=False),
    Column("contact_method", String(16), nullable=False, server_default=""),
    Column("contact_note", Text, nullable=False, server_default=""),
    Column("contacted_at", UTCDateTime, nullable=True),
    Column("status", String(16), nullable=False),
    Column("correction_refund_id", ID, nullable=False, server_default=""),
    Column("created_by", ID, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# --- notify: notifications, tracking, follow-up, contact log, disputes (issue 5) ---

notify_contacts = Table(
    "notify_contacts",
    metadata,
    Column("case_id", ID, ForeignKey("refunds.id"), primary_key=True),
    Column("merchant_id", ID, nullable=False),
    Column("language", String(2), nullable=False, server_default="zh"),
    Column("email_enc", Text, nullable=True),
    Column("email_masked", String(120), nullable=False, server_default=""),
    Column("wechat_openid_enc", Text, nullable=True),
    Column("wechat_openid_masked", String(64), nullable=False, server_default=""),
    Column("opted_out", Boolean, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
)

notify_optouts = Table(
    "notify_optouts",
    metadata,
    Column("merchant_id", ID, primary_key=True),
    Column("phone_index", String(64), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

notify_templates = Table(
    "notify_templates",
    metadata,
    Column("merchant_id", ID, ForeignKey("merchants.id"), primary_key=True),
    Column("event", String(32), primary_key=True),
    Column("language", String(2), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_by", ID, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

notify_gateways = Table(
    "notify_gateways",
    metadata,
    Column("merchant_id", ID, ForeignKey("merchants.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("document", Text, nullable=False),  # JSON without the credential
    Column("credential_enc", Text, nullable=True),
    Column("updated_by", ID, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", ID, primary_key=True),
    Column("message_id", String(80), nullable=False, unique=True),
    Column("merchant_id", ID, nullable=False),
    Column("case_id", ID, ForeignKey("refunds.id"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("language", String(2), nullable=False),
    Column("recipient_masked", String(120), nullable=False),
    Column("params", Text, nullable=False),  # JSON: event details (e.g. the rejection reason)
    Column("status", String(16), nullable=False),  # pending | sending | sent | failed | skipped
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("provider_message_id", String(128), nullable=False, server_default=""),
    Column("last_error", String(300), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Index("ix_notifications_due", "status", "next_attempt_at"),
    Index("ix_notifications_case", "case_id"),
)

notify_attempts = Table(
    "notify_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("notification_id", ID, ForeignKey("notifications.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("gateway", String(64), nullable=False),
    Column("result", String(16), nullable=False),  # sent | retry | failed
    Column("provider_message_id", String(128), nullable=False, server_default=""),
    Column("error", String(300), nullable=False, server_default=""),
)

followups = Table(
    "followups",
    metadata,
    Column("case_id", ID, ForeignKey("refunds.id"), primary_key=True),
    Column("merchant_id", ID, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(16), nullable=False),  # open | closed
    Column("created_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("closed_by", String(64), nullable=False, server_default=""),
    Column("closed_how", String(16), nullable=False, server_default=""),  # customer | staff
    Column("note", Text, nullable=False, server_default=""),
    Index("ix_followups_merchant_status_due", "merchant_id", "status", "due_on"),
)

contact_log = Table(
    "contact_log",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, nullable=False),
    Column("case_id", ID, ForeignKey("refunds.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # call | message | visit
    Column("direction", String(8), nullable=False),  # in | out
    Column("note", Text, nullable=False),
    Column("actor_id", ID, nullable=False),
    Column("actor_role", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

disputes = Table(
    "disputes",
    metadata,
    Column("id", ID, primary_key=True),
    Column("merchant_id", ID, nullable=False),
    Column("case_id", ID, ForeignKey("refunds.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # open | escalated | upheld | rejected
    Column("claim", Text, nullable=False),
    Column("claimed_fen", BigInteger, nullable=True),
    Column("evidence_ids", Text, nullable=False),  # JSON list
    Column("escalated_to", String(16), nullable=False, server_default=""),
    Column("escalation_ref", String(64), nullable=False, server_default=""),
    Column("outcome_reason", Text, nullable=False, server_default=""),
    Column("new_case_id", ID, nullable=True),
    Column("opened_by", ID, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    Index("ix_disputes_merchant_status_opened", "merchant_id", "status", "opened_at"),
)
