"""The schema, in SQLAlchemy Core, one module a concept. Alembic migrations build it; the tables here are their
mirror, all in one ``metadata``."""

from posrefund.adapters.db.tables.abnormal_refunds import abnormal_refund_applications
from posrefund.adapters.db.tables.attempts import refund_attempts
from posrefund.adapters.db.tables.card_terminal import card_terminal_counters, card_terminal_journal
from posrefund.adapters.db.tables.columns import AUTO_ID, ID, UTCDateTime, metadata, naming
from posrefund.adapters.db.tables.deposits import deposit_payouts, deposit_proposals, deposit_terms, deposits
from posrefund.adapters.db.tables.desk import settlement_mappings, till_checks, till_tolerances
from posrefund.adapters.db.tables.documents import bank_applications, summary_deliveries, summary_subscriptions
from posrefund.adapters.db.tables.fees import fee_payout_lines, fee_payouts, fee_periods, fee_rules, one_off_charges
from posrefund.adapters.db.tables.holds import fund_hold_operations, fund_holds
from posrefund.adapters.db.tables.ledger import evidence, refunds, sales
from posrefund.adapters.db.tables.merchants import (
    api_keys,
    merchant_channel_accounts,
    merchants,
    policies,
    refresh_tokens,
    stores,
    terminals,
    users,
)
from posrefund.adapters.db.tables.notifications import (
    contact_log,
    disputes,
    followups,
    merchant_contacts,
    notifications,
    notify_attempts,
    notify_contacts,
    notify_gateways,
    notify_optouts,
    notify_templates,
)
from posrefund.adapters.db.tables.provider import device_returns, provider_desks, provider_devices, provider_notices
from posrefund.adapters.db.tables.reconciliation import (
    recon_discrepancies,
    recon_fee_rates,
    recon_found,
    recon_runs,
    settlement_bad_lines,
    settlement_files,
    settlement_lines,
    wrong_charges,
)
from posrefund.adapters.db.tables.records import (
    audit_checkpoints,
    audit_events,
    audit_heads,
    calendar_overrides,
    callback_notices,
    idempotency,
    outbox,
)
from posrefund.adapters.db.tables.reports import report_changes, report_refund_days, report_sale_days
from posrefund.adapters.db.tables.risk import (
    risk_alert_cases,
    risk_alerts,
    risk_holds,
    risk_scan_schedule,
    risk_settings,
)
from posrefund.adapters.db.tables.sale_items import refund_items, sale_items

__all__ = [
    "AUTO_ID",
    "ID",
    "UTCDateTime",
    "abnormal_refund_applications",
    "api_keys",
    "audit_checkpoints",
    "audit_events",
    "audit_heads",
    "bank_applications",
    "calendar_overrides",
    "callback_notices",
    "card_terminal_counters",
    "card_terminal_journal",
    "contact_log",
    "deposit_payouts",
    "deposit_proposals",
    "deposit_terms",
    "deposits",
    "device_returns",
    "disputes",
    "evidence",
    "fee_payout_lines",
    "fee_payouts",
    "fee_periods",
    "fee_rules",
    "followups",
    "fund_hold_operations",
    "fund_holds",
    "idempotency",
    "merchant_channel_accounts",
    "merchant_contacts",
    "merchants",
    "metadata",
    "naming",
    "notifications",
    "notify_attempts",
    "notify_contacts",
    "notify_gateways",
    "notify_optouts",
    "notify_templates",
    "one_off_charges",
    "outbox",
    "policies",
    "provider_desks",
    "provider_devices",
    "provider_notices",
    "recon_discrepancies",
    "recon_fee_rates",
    "recon_found",
    "recon_runs",
    "refresh_tokens",
    "refund_attempts",
    "refund_items",
    "refunds",
    "report_changes",
    "report_refund_days",
    "report_sale_days",
    "risk_alert_cases",
    "risk_alerts",
    "risk_holds",
    "risk_scan_schedule",
    "risk_settings",
    "sale_items",
    "sales",
    "settlement_bad_lines",
    "settlement_files",
    "settlement_lines",
    "settlement_mappings",
    "stores",
    "summary_deliveries",
    "summary_subscriptions",
    "terminals",
    "till_checks",
    "till_tolerances",
    "users",
    "wrong_charges",
]
