"""Each hand-over of a refund to its channel, under the fencing token the claim took (see ports/attempts.py)."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, UniqueConstraint

from posrefund.adapters.db.tables.columns import (
    ID,
    blank_string,
    blank_text,
    case_ref,
    id_key,
    merchant_ref,
    metadata,
    moment,
)

refund_attempts = Table(
    "refund_attempts",
    metadata,
    id_key(),
    merchant_ref(),
    case_ref(),
    Column("attempt_no", Integer, nullable=False),
    Column("fence", Integer, nullable=False),
    Column("refund_no", String(64), nullable=False, index=True),
    blank_string("previous_refund_no", 64),
    Column("channel", String(16), nullable=False),
    Column("method", String(16), nullable=False),
    Column("worker", ID, nullable=False),
    moment("started_at"),
    moment("lease_until"),
    moment("finished_at", nullable=True),
    blank_string("call", 8),  # submit or query: a request that never left is sent again only after a submit
    blank_string("outcome", 16),
    blank_string("code", 64),
    blank_text("message"),
    # One attempt a fence: the fence only ever grows, so two claims can never share one.
    UniqueConstraint("case_id", "fence"),
)
