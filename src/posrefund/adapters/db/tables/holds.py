"""Fund holds (card 预授权, Alipay 资金授权冻结) and the operations posrefund sends on them (docs/holds.md).

A hold row keeps the references every operation quotes and what became of it (state, what the completion took,
the completion's own references and the sale it became). An operation row is the queue of the worker: its
``operation_no`` is generated once and sent on every retry; a claim takes a lease in ``next_check_at`` and the next
``fence`` before the call, so a crashed worker's operation is found again and asked about, never sent twice."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from posrefund.adapters.db.tables.columns import ID, blank_string, blank_text, id_key, merchant_ref, metadata, moment

fund_holds = Table(
    "fund_holds",
    metadata,
    id_key(),
    merchant_ref(),
    Column("terminal_id", ID, ForeignKey("terminals.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("hold_no", String(64), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    moment("held_at"),
    moment("expires_at"),
    Column("tolerance_bp", Integer, nullable=False),
    blank_string("channel_hold_id", 64),
    blank_string("auth_code", 6),
    blank_string("rrn", 12),
    blank_string("voucher_no", 6),
    blank_string("batch_no", 6),
    blank_string("terminal_no", 8),
    blank_string("card_masked", 32),
    Column("state", String(16), nullable=False),  # held, completed, released, expired
    Column("taken_fen", BigInteger, nullable=False),
    blank_string("completion_operation_no", 64),
    Column("completion_fen", BigInteger, nullable=False),
    blank_string("completion_rrn", 12),
    blank_string("completion_auth_code", 6),
    blank_string("completion_voucher_no", 6),
    blank_string("completion_batch_no", 6),
    moment("completed_at", nullable=True),
    Column("completion_by_notice", Boolean, nullable=False),
    blank_string("sale_id", 40),  # the sale the completion became (its refund is an ordinary card refund)
    Column("version", Integer, nullable=False),
    blank_string("recorded_by", 40),
    moment("created_at"),
    moment("updated_at"),
    UniqueConstraint("merchant_id", "hold_no"),
    Index("ix_fund_holds_state_expires_at", "state", "expires_at"),
)

fund_hold_operations = Table(
    "fund_hold_operations",
    metadata,
    id_key(),
    merchant_ref(),
    Column("hold_id", ID, ForeignKey("fund_holds.id"), nullable=False, index=True),
    Column("operation_no", String(64), nullable=False, unique=True),
    Column("step", String(24), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),  # pending, processing, succeeded, declined, unresolved
    Column("attempts", Integer, nullable=False),
    Column("fence", Integer, nullable=False),
    Column("sent", Boolean, nullable=False),  # handed to the channel at least once: ask before sending again
    moment("next_check_at", nullable=True),  # due at, or the running claim's lease
    blank_string("worker", 40),
    blank_string("outcome", 16),
    blank_string("code", 32),
    blank_text("message"),
    Column("details", Text, nullable=False),
    blank_string("requested_by", 40),
    blank_text("reason"),
    moment("requested_at"),
    moment("finished_at", nullable=True),
    Index("ix_fund_hold_operations_status_next_check_at", "status", "next_check_at"),
)
