"""Disputes (争议): the customer disagrees with how a refund was handled.

Customer service opens one on a case with the customer's claim, adds evidence, may escalate it to a third
party (mediation, arbitration, the acquirer) with that party's reference, and a supervisor records the
outcome: *upheld* → a new refund through the normal flow (``refunds.request_refund_once``: policy, review,
the reservation that can never over-refund); *rejected* → the reason is sent to the customer. Every step is
an audit event on the case, so the dispute is part of the case's timeline.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.notification import NotifyEvent
from posrefund.domain.pii import refuse_card_number
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale
from posrefund.ports import CustomerRecord, UnitOfWork
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.notifications import sending
from posrefund.service.notifications.settings import load_case
from posrefund.service.records import record
from posrefund.service.refunds import CustomerInput, Idempotency, RefundRequest

THIRD_PARTIES = ("mediation", "arbitration", "acquirer")
OPEN = ("open", "escalated")
MAX_TEXT = 2000
MAX_EVIDENCE = 20


_FIELD_ZH = {"claim": "顾客诉求", "reference": "第三方受理编号", "reason": "处理理由"}  # for the Chinese message


def _text(value: str, field: str, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid("dispute.text_required", field=field, field_zh=_FIELD_ZH.get(field, field))
    if len(value) > MAX_TEXT:
        raise Invalid("request.field_too_long", field=field, max=MAX_TEXT)
    refuse_card_number(value, field)
    return value


def _evidence(uow: UnitOfWork, merchant_id: str, ids: list[str]) -> list[str]:
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_EVIDENCE:
        raise Invalid("dispute.too_much_evidence", max=MAX_EVIDENCE)
    if len(uow.evidence.evidence_rows(merchant_id, wanted)) != len(wanted):
        raise Invalid("evidence.not_found")
    return wanted


def _load(uow: UnitOfWork, actor: Actor, dispute_id: str) -> tuple[dict[str, Any], RefundCase]:
    row = uow.disputes.get_dispute(actor.merchant_id or "", dispute_id)
    if row is None:
        raise NotFound("dispute.not_found")
    case = load_case(uow, actor, row["case_id"])
    return row, case


def _save(uow: UnitOfWork, row: dict[str, Any], values: dict[str, Any]) -> None:
    if not uow.disputes.save_dispute(row["id"], int(row["version"]), values):
        raise Conflict("dispute.concurrent_update")
    row.update(values, version=int(row["version"]) + 1)


def _event(
    uow: UnitOfWork, actor: Actor, case: RefundCase, action: str, now: datetime, reason: str = "", **data: Any
) -> None:
    record(
        uow,
        actor,
        case.merchant_id,
        action,
        now,
        case_id=case.id,
        reason=reason,
        before=case.status.value,
        after=case.status.value,
        **data,
    )


def open_dispute(
    deps: Deps,
    actor: Actor,
    case_id: str,
    claim: str,
    claimed_fen: int | None = None,
    evidence_ids: list[str] | None = None,
) -> dict[str, Any]:
    actor.require("dispute.manage")
    claim = _text(claim, "claim")
    if claimed_fen is not None and (isinstance(claimed_fen, bool) or claimed_fen <= 0):
        raise Invalid("refund.amount_not_positive", amount_fen=claimed_fen)
    now = deps.clock.now()
    with deps.uow() as uow:
        case = load_case(uow, actor, case_id)
        if any(d["status"] in OPEN for d in uow.disputes.list_disputes(case.merchant_id, None, case.id, 100)):
            raise Conflict("dispute.already_open")
        evidence = _evidence(uow, case.merchant_id, evidence_ids or [])
        row = {
            "id": deps.ids.new_id("dsp"),
            "merchant_id": case.merchant_id,
            "case_id": case.id,
            "status": "open",
            "claim": claim,
            "claimed_fen": claimed_fen,
            "evidence_ids": json.dumps(evidence),
            "escalated_to": "",
            "escalation_ref": "",
            "outcome_reason": "",
            "new_case_id": None,
            "opened_by": actor.id,
            "opened_at": now,
            "updated_at": now,
            "closed_at": None,
            "version": 1,
        }
        uow.disputes.add_dispute(row)
        _event(
            uow,
            actor,
            case,
            "dispute.opened",
            now,
            claim,
            dispute_id=row["id"],
            claimed_fen=claimed_fen,
            evidence_ids=evidence,
        )
        uow.commit()
    return row


def add_evidence(deps: Deps, actor: Actor, dispute_id: str, evidence_ids: list[str]) -> dict[str, Any]:
    actor.require("dispute.manage")
    if not evidence_ids:
        raise Invalid("dispute.evidence_required")
    now = deps.clock.now()
    with deps.uow() as uow:
        row, case = _load(uow, actor, dispute_id)
        if row["status"] not in OPEN:
            raise Conflict("dispute.closed", status=row["status"])
        added = _evidence(uow, case.merchant_id, evidence_ids)
        merged = list(dict.fromkeys([*json.loads(row["evidence_ids"]), *added]))
        if len(merged) > MAX_EVIDENCE:
            raise Invalid("dispute.too_much_evidence", max=MAX_EVIDENCE)
        _save(uow, row, {"evidence_ids": json.dumps(merged), "updated_at": now})
        _event(uow, actor, case, "dispute.evidence_added", now, dispute_id=row["id"], evidence_ids=added)
        uow.commit()
    return row


def escalate(deps: Deps, actor: Actor, dispute_id: str, to: str, reference: str) -> dict[str, Any]:
    """Hand the dispute to a third party; its reference (case no. at the mediator, the acquirer's ticket)
    is kept. A dispute may move on (mediation, then arbitration); each hand-over is recorded."""
    actor.require("dispute.manage")
    if to not in THIRD_PARTIES:
        raise Invalid("dispute.invalid_party", party=to)
    reference = _text(reference, "reference")
    if len(reference) > 64:
        raise Invalid("request.field_too_long", field="reference", max=64)
    now = deps.clock.now()
    with deps.uow() as uow:
        row, case = _load(uow, actor, dispute_id)
        if row["status"] not in OPEN:
            raise Conflict("dispute.closed", status=row["status"])
        _save(uow, row, {"status": "escalated", "escalated_to": to, "escalation_ref": reference, "updated_at": now})
        _event(uow, actor, case, "dispute.escalated", now, dispute_id=row["id"], to=to, reference=reference)
        uow.commit()
    return row


@dataclass(frozen=True)
class Outcome:
    outcome: str  # upheld | rejected
    reason: str
    amount_fen: int | None = None  # upheld: the amount refunded anew


def _customer_input(deps: Deps, rec: CustomerRecord) -> CustomerInput:
    c = deps.cipher
    return CustomerInput(
        phone=c.decrypt(rec.phone_enc) if rec.phone_enc else None,
        name=c.decrypt(rec.name_enc) if rec.name_enc else None,
        id_no=c.decrypt(rec.id_no_enc) if rec.id_no_enc else None,
    )


def _new_refund(deps: Deps, actor: Actor, row: dict[str, Any], case: RefundCase, amount: int, reason: str) -> str:
    """The upheld dispute's refund, through the normal request: policy, review, reservation. Keyed by the
    dispute, so recording the outcome again after a crash finds the same refund instead of a second one."""
    with deps.uow(readonly=True) as uow:
        customer = uow.refunds.customer(case.id)
    req = RefundRequest(
        sale_id=case.sale_id,
        amount_fen=amount,
        reason="other",
        note=f"争议 {row['id']} 支持 / dispute upheld: {reason}"[:500],
        customer=_customer_input(deps, customer),
        evidence_ids=tuple(json.loads(row["evidence_ids"])),
    )

    def render(new: RefundCase, _sale: Sale, _cust: CustomerRecord) -> tuple[int, bytes]:
        return 201, json.dumps({"id": new.id}).encode()

    digest = hashlib.sha256(f"{row['id']}:{amount}".encode()).hexdigest()
    idem = Idempotency(scope=case.merchant_id, key=f"dispute:{row['id']}", request_hash=digest, render=render)
    answer = refunds.request_refund_once(deps, actor, req, idem)
    return str(json.loads(answer.body)["id"])


def decide(deps: Deps, actor: Actor, dispute_id: str, outcome: Outcome) -> dict[str, Any]:
    actor.require("dispute.decide")
    reason = _text(outcome.reason, "reason")
    if outcome.outcome not in ("upheld", "rejected"):
        raise Invalid("dispute.invalid_outcome", outcome=outcome.outcome)
    with deps.uow(readonly=True) as uow:
        row, case = _load(uow, actor, dispute_id)
    if row["status"] not in OPEN:
        raise Conflict("dispute.closed", status=row["status"])
    new_case_id: str | None = None
    if outcome.outcome == "upheld":
        amount = outcome.amount_fen if outcome.amount_fen is not None else row["claimed_fen"]
        if amount is None or isinstance(amount, bool) or amount <= 0:
            raise Invalid("dispute.amount_required")
        new_case_id = _new_refund(deps, actor, row, case, int(amount), reason)
    now = deps.clock.now()
    with deps.uow() as uow:
        row, case = _load(uow, actor, dispute_id)
        if row["status"] not in OPEN:
            raise Conflict("dispute.closed", status=row["status"])
        _save(
            uow,
            row,
            {
                "status": outcome.outcome,
                "outcome_reason": reason,
                "new_case_id": new_case_id,
                "closed_at": now,
                "updated_at": now,
            },
        )
        _event(
            uow, actor, case, f"dispute.{outcome.outcome}", now, reason, dispute_id=row["id"], new_case_id=new_case_id
        )
        if outcome.outcome == "rejected":
            sending.schedule(deps, uow, case, NotifyEvent.DISPUTE_REJECTED, f"dsp-{row['id']}", now, {"reason": reason})
        uow.commit()
    return row


def get(deps: Deps, actor: Actor, dispute_id: str) -> dict[str, Any]:
    actor.require("dispute.read")
    with deps.uow(readonly=True) as uow:
        row, _case = _load(uow, actor, dispute_id)
    return with_age(row, deps.clock.now())


def list_disputes(
    deps: Deps, actor: Actor, status: str | None = None, case_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Oldest first, each with its age (open ones up to now, closed ones up to their outcome)."""
    actor.require("dispute.read")
    if status not in (None, "open", "escalated", "upheld", "rejected"):
        raise Invalid("dispute.invalid_status", status=status)
    with deps.uow(readonly=True) as uow:
        rows = uow.disputes.list_disputes(actor.merchant_id or "", status, case_id, limit)
    now = deps.clock.now()
    return [with_age(r, now) for r in rows]


def with_age(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    end = row["closed_at"] or now
    age = end - row["opened_at"]
    return {
        **row,
        "evidence_ids": json.loads(row["evidence_ids"])
        if isinstance(row["evidence_ids"], str)
        else row["evidence_ids"],
        "age_days": age.days,
        "age_hours": int(age.total_seconds() // 3600),
    }
