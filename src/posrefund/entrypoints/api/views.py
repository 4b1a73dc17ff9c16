"""Domain objects → JSON-ready dicts. Amounts stay integer fen; times are ISO 8601 with offset."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from posrefund.domain.refund import RefundCase
from posrefund.domain.sale import KIND_LABELS, Sale
from posrefund.domain.sale_items import SaleLine
from posrefund.ports import AuditEventRow, CustomerRecord, RefundAttempt


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def sale_view(s: Sale) -> dict[str, Any]:
    return {
        "id": s.id,
        "merchant_id": s.merchant_id,
        "store_id": s.store_id,
        "terminal_id": s.terminal_id,
        "voucher_no": s.voucher_no,
        "rrn": s.rrn,
        "batch_no": s.batch_no,
        "auth_code": s.auth_code,
        "order_no": s.order_no,
        "channel": s.channel.value,
        "kind": s.kind.value,
        "kind_label": KIND_LABELS[s.kind][0],
        "amount_fen": s.amount_fen,
        "fee_fen": s.fee_fen,
        "currency": s.currency,
        "paid_at": iso(s.paid_at),
        "settlement_status": s.settlement_status.value,
        "payer_masked": s.payer_masked,
        "refunded_fen": s.refunded_fen,
        "reserved_fen": s.reserved_fen,
        "refundable_fen": s.refundable_fen,
        "refund_count": s.refund_count,
    }


def line_view(line: SaleLine) -> dict[str, Any]:
    return {
        "line": line.line,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price_fen": line.unit_price_fen,
        "amount_fen": line.amount_fen,
        "refunded_qty": line.refunded_qty,
        "reserved_qty": line.reserved_qty,
        "refundable_qty": line.refundable_qty,
    }


def refund_view(c: RefundCase, customer: CustomerRecord | None) -> dict[str, Any]:
    cust = customer or CustomerRecord()
    return {
        "id": c.id,
        "refund_no": c.refund_no,
        "sale_id": c.sale_id,
        "merchant_id": c.merchant_id,
        "store_id": c.store_id,
        "terminal_id": c.terminal_id,
        "status": c.status.value,
        "amount_fen": c.amount_fen,
        "currency": c.currency,
        "reason": c.reason.value,
        "note": c.note,
        "channel": c.channel,
        "method": c.method or None,
        "attempts": c.attempts,
        "channel_refund_id": c.channel_refund_id or None,
        "expected_arrival": c.expected_arrival.isoformat() if c.expected_arrival else None,
        "succeeded_at": iso(c.succeeded_at),
        "last_channel_code": c.last_code or None,
        "customer": {
            "phone": cust.phone_masked or None,
            "name": cust.name_masked or None,
            "id_no": cust.id_no_masked or None,
        },
        "evidence_ids": c.evidence_ids,
        "requested_by": c.requested_by,
        "requested_role": c.requested_role,
        "required_approvals": c.required_approvals,
        "approved_by": c.approved_by,
        "review_reason": c.review_reason,
        "version": c.version,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
    }


def event_view(row: AuditEventRow) -> dict[str, Any]:

    return {
        "seq": row["seq"],
        "action": row["action"],
        "actor_id": row["actor_id"],
        "actor_role": row["actor_role"],
        "at": iso(row["at"]),
        "before": row["before"],
        "after": row["after"],
        "reason": row["reason"],
        "data": json.loads(row["data"]),
        "hash": row["hash"],
    }


def plain(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in row.items()}


def attempt_view(a: RefundAttempt) -> dict[str, Any]:
    return {
        "attempt_no": a.attempt_no,
        "fence": a.fence,
        "refund_no": a.refund_no,
        "previous_refund_no": a.previous_refund_no,
        "channel": a.channel,
        "method": a.method,
        "worker": a.worker,
        "started_at": iso(a.started_at),
        "lease_until": iso(a.lease_until),
        "finished_at": iso(a.finished_at),
        "call": a.call,
        "outcome": a.outcome,
        "code": a.code,
        "message": a.message,
    }
