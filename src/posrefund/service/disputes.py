"""Disputes (争议): the customer disagrees with how a refund was handled.

Customer service opens one on a case with the customer's claim, adds evidence, may escalate it to a third
party (mediation, arbitration, the acquirer) with that party's reference, and a supervisor records the
outcome: *upheld* → a new refund through the normal flow (``refunds.request_refund_once``: policy, review,
the reservation that can never over-refund); *rejected* → the reason is sent to the customer. Every step is
an audit event on the case, so the dispute is part of the case's timeline.

The dispute's rules and its one table of transitions are in ``domain/dispute.py``; here a row is loaded as
the aggregate, asked to act, and saved with its events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from posrefund.domain.dispute import (
    MAX_TEXT,
    OPEN_STATES,
    Dispute,
    DisputeStatus,
    ThirdParty,
    check_claimed_amount,
    dispute_text,
    evidence_list,
    outcome_of,
    reference_text,
    refuse_second_dispute,
    status_filter,
    third_party,
)
from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.notification import NotifyEvent
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale
from posrefund.ports import CustomerRecord, DisputeRow, DisputeState, UnitOfWork
from posrefund.service import refunds
from posrefund.service.deps import Deps
from posrefund.service.notifications import sending
from posrefund.service.notifications.settings import load_case
from posrefund.service.refunds import CustomerInput, Idempotency, RefundRequest

# The names the console and the API have always read from here.
THIRD_PARTIES: tuple[str, ...] = tuple(p.value for p in ThirdParty)
OPEN = OPEN_STATES
__all__ = [
    "MAX_TEXT",
    "OPEN",
    "THIRD_PARTIES",
    "Outcome",
    "add_evidence",
    "decide",
    "escalate",
    "get",
    "list_disputes",
    "open_dispute",
    "with_age",
]


def _dispute(row: DisputeRow) -> Dispute:
    """A ``disputes`` row as the aggregate."""
    return Dispute(
        id=row["id"],
        merchant_id=row["merchant_id"],
        case_id=row["case_id"],
        status=DisputeStatus(row["status"]),
        claim=row["claim"],
        claimed_fen=row["claimed_fen"],
        evidence_ids=list(json.loads(row["evidence_ids"])),
        escalated_to=ThirdParty(row["escalated_to"]) if row["escalated_to"] else None,
        escalation_ref=row["escalation_ref"],
        outcome_reason=row["outcome_reason"],
        new_case_id=row["new_case_id"],
        opened_by=row["opened_by"],
        opened_at=row["opened_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
        version=row["version"],
    )


def _row(d: Dispute) -> DisputeRow:
    """The aggregate as its ``disputes`` row, in the table's column order (what the API shows)."""
    return {"id": d.id, **_state(d), "version": d.version}


def _state(d: Dispute) -> DisputeState:
    """All of the dispute's row a step may change (not its id, nor the version the write compares)."""
    return {
        "merchant_id": d.merchant_id,
        "case_id": d.case_id,
        "status": d.status.value,
        "claim": d.claim,
        "claimed_fen": d.claimed_fen,
        "evidence_ids": json.dumps(d.evidence_ids),
        "escalated_to": d.escalated_to.value if d.escalated_to else "",
        "escalation_ref": d.escalation_ref,
        "outcome_reason": d.outcome_reason,
        "new_case_id": d.new_case_id,
        "opened_by": d.opened_by,
        "opened_at": d.opened_at,
        "updated_at": d.updated_at,
        "closed_at": d.closed_at,
    }


def _known_evidence(uow: UnitOfWork, merchant_id: str, ids: list[str]) -> list[str]:
    """The pieces, each once; every one must be this merchant's upload."""
    wanted = evidence_list(ids)
    if len(uow.evidence.evidence_rows(merchant_id, wanted)) != len(wanted):
        raise Invalid("evidence.not_found")
    return wanted


def _load(uow: UnitOfWork, actor: Actor, dispute_id: str) -> tuple[Dispute, RefundCase]:
    row = uow.disputes.get_dispute(actor.merchant_id or "", dispute_id)
    if row is None:
        raise NotFound("dispute.not_found")
    case = load_case(uow, actor, row["case_id"])
    return _dispute(row), case


def _save(uow: UnitOfWork, dispute: Dispute, case: RefundCase) -> DisputeRow:
    """Compare-and-set on the version, then the dispute's events on the refund case's timeline (the case's
    status stays as it is: a dispute is about the case, not a move of it)."""
    if not uow.disputes.save_dispute(dispute.id, dispute.version, _state(dispute)):
        raise Conflict("dispute.concurrent_update")
    dispute.version += 1
    _flush(uow, dispute, case)
    return _row(dispute)


def _flush(uow: UnitOfWork, dispute: Dispute, case: RefundCase) -> None:
    status = case.status.value
    events = [replace(event, before=status, after=status) for event in dispute.pending_events]
    uow.audit.append_many(case.merchant_id, case.id, events)
    dispute.pending_events.clear()


def open_dispute(
    deps: Deps,
    actor: Actor,
    case_id: str,
    claim: str,
    claimed_fen: int | None = None,
    evidence_ids: list[str] | None = None,
) -> DisputeRow:
    actor.require("dispute.manage")
    claim = dispute_text(claim, "claim")
    check_claimed_amount(claimed_fen)
    now = deps.clock.now()
    with deps.uow() as uow:
        case = load_case(uow, actor, case_id)
        others = uow.disputes.list_disputes(case.merchant_id, None, case.id, 100)
        refuse_second_dispute(DisputeStatus(d["status"]) for d in others)
        evidence = _known_evidence(uow, case.merchant_id, evidence_ids or [])
        dispute = Dispute.open(
            id=deps.ids.new_id("dsp"),
            merchant_id=case.merchant_id,
            case_id=case.id,
            claim=claim,
            claimed_fen=claimed_fen,
            evidence_ids=evidence,
            actor=actor,
            now=now,
        )
        row = _row(dispute)
        uow.disputes.add_dispute(row)
        _flush(uow, dispute, case)
        uow.commit()
    return row


def add_evidence(deps: Deps, actor: Actor, dispute_id: str, evidence_ids: list[str]) -> DisputeRow:
    actor.require("dispute.manage")
    if not evidence_ids:
        raise Invalid("dispute.evidence_required")
    now = deps.clock.now()
    with deps.uow() as uow:
        dispute, case = _load(uow, actor, dispute_id)
        added = _known_evidence(uow, case.merchant_id, dispute.evidence_to_add(evidence_ids))
        dispute.add_evidence(added, actor, now)
        row = _save(uow, dispute, case)
        uow.commit()
    return row


def escalate(deps: Deps, actor: Actor, dispute_id: str, to: str, reference: str) -> DisputeRow:
    """Hand the dispute to a third party; its reference (case no. at the mediator, the acquirer's ticket)
    is kept. A dispute may move on (mediation, then arbitration); each hand-over is recorded."""
    actor.require("dispute.manage")
    party = third_party(to)
    reference = reference_text(reference)
    now = deps.clock.now()
    with deps.uow() as uow:
        dispute, case = _load(uow, actor, dispute_id)
        dispute.escalate(party, reference, actor, now)
        row = _save(uow, dispute, case)
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


def _new_refund(deps: Deps, actor: Actor, dispute: Dispute, case: RefundCase, amount: int, reason: str) -> str:
    """The upheld dispute's refund, through the normal request: policy, review, reservation. Keyed by the
    dispute, so recording the outcome again after a crash finds the same refund instead of a second one."""
    with deps.uow(readonly=True) as uow:
        customer = uow.refunds.customer(case.id)
    req = RefundRequest(
        sale_id=case.sale_id,
        amount_fen=amount,
        reason="other",
        note=f"争议 {dispute.id} 支持 / dispute upheld: {reason}"[:500],
        customer=_customer_input(deps, customer),
        evidence_ids=tuple(dispute.evidence_ids),
    )

    def render(new: RefundCase, _sale: Sale, _cust: CustomerRecord) -> tuple[int, bytes]:
        return 201, json.dumps({"id": new.id}).encode()

    digest = hashlib.sha256(f"{dispute.id}:{amount}".encode()).hexdigest()
    idem = Idempotency(scope=case.merchant_id, key=f"dispute:{dispute.id}", request_hash=digest, render=render)
    answer = refunds.request_refund_once(deps, actor, req, idem)
    return str(json.loads(answer.body)["id"])


def decide(deps: Deps, actor: Actor, dispute_id: str, outcome: Outcome) -> DisputeRow:
    """A supervisor closes the dispute. An upheld one first gets its refund (its own transactions, keyed by
    the dispute); the dispute is then closed only if nobody closed it meanwhile."""
    actor.require("dispute.decide")
    reason = dispute_text(outcome.reason, "reason")
    closing = outcome_of(outcome.outcome)
    with deps.uow(readonly=True) as uow:
        dispute, case = _load(uow, actor, dispute_id)
    dispute.check_move(closing)
    new_case_id: str | None = None
    if closing is DisputeStatus.UPHELD:
        amount = dispute.upheld_amount(outcome.amount_fen)
        new_case_id = _new_refund(deps, actor, dispute, case, amount, reason)
    now = deps.clock.now()
    with deps.uow() as uow:
        dispute, case = _load(uow, actor, dispute_id)
        if new_case_id:
            dispute.uphold(reason, new_case_id, actor, now)
        else:
            dispute.reject(reason, actor, now)
        row = _save(uow, dispute, case)
        if dispute.tells_customer_the_reason:
            key, data = f"dsp-{dispute.id}", {"reason": reason}
            sending.schedule(deps, uow, case, NotifyEvent.DISPUTE_REJECTED, key, now, data)
        uow.commit()
    return row


def get(deps: Deps, actor: Actor, dispute_id: str) -> dict[str, Any]:
    actor.require("dispute.read")
    with deps.uow(readonly=True) as uow:
        dispute, _case = _load(uow, actor, dispute_id)
    return with_age(_row(dispute), deps.clock.now())


def list_disputes(
    deps: Deps, actor: Actor, status: str | None = None, case_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Oldest first, each with its age (open ones up to now, closed ones up to their outcome)."""
    actor.require("dispute.read")
    status_filter(status)
    with deps.uow(readonly=True) as uow:
        rows = uow.disputes.list_disputes(actor.merchant_id or "", status, case_id, limit)
    now = deps.clock.now()
    return [with_age(r, now) for r in rows]


def with_age(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
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
