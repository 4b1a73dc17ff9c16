"""Refund cases: request, review, cancel, read — the core of posrefund.

The amount is reserved on the sale by a conditional update in the same
transaction as the case, its audit events and its outbox rows, so no
concurrency, retry or crash can refund a sale beyond what it captured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from posrefund.domain.errors import Invalid, NotFound
from posrefund.domain.pii import (
    mask_id_no,
    mask_name,
    mask_phone,
    normalise_phone,
    refuse_card_data,
    validate_id_no,
)
from posrefund.domain.policy import Reason, RefundPolicy, check_request
from posrefund.domain.refund import RELEASED, RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.domain.sale import DEPOSIT_KINDS, Sale
from posrefund.ports import AuditEventRow, CustomerRecord, RefundQuery, UnitOfWork
from posrefund.service import refund_items
from posrefund.service.deposits import settling
from posrefund.service.deposits.allowance import within_deposit_terms
from posrefund.service.deps import Deps
from posrefund.service.records import flush_case_events, record_on_case
from posrefund.service.refundable import sale_and_policy_to_refund

MAX_NAME = 50


@dataclass(frozen=True)
class CustomerInput:
    phone: str | None = None
    name: str | None = None
    id_no: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    sale_id: str
    amount_fen: int
    reason: str
    note: str = ""
    customer: CustomerInput = field(default_factory=CustomerInput)
    evidence_ids: tuple[str, ...] = ()
    request_id: str = ""  # the API request's id (X-Request-ID), kept on the case for the worker's log lines
    items: tuple[tuple[int, int], ...] = ()  # (line, units) of the sale's items; the amount is then theirs


@dataclass(frozen=True)
class Idempotency:
    """The caller's key and a hash of its request; ``render`` turns the result into the stored answer."""

    scope: str
    key: str
    request_hash: str
    render: Callable[[RefundCase, Sale, CustomerRecord], tuple[int, bytes]]


@dataclass(frozen=True)
class Answer:
    """The stored answer to an idempotent request; ``replayed`` when it was stored by an earlier call."""

    status: int
    body: bytes
    replayed: bool


def policy_of(uow: UnitOfWork, merchant_id: str) -> RefundPolicy:
    return uow.policies.get_policy(merchant_id) or RefundPolicy()


def protect_customer(deps: Deps, inp: CustomerInput) -> CustomerRecord:
    """Validate and encrypt the customer's contact; only masked forms and a blind index stay readable."""
    phone = normalise_phone(inp.phone) if inp.phone else None
    name = (inp.name or "").strip() or None
    if name is not None:
        if len(name) > MAX_NAME:
            raise Invalid("request.field_too_long", field="customer.name", max=MAX_NAME)
        refuse_card_data(name, "customer.name")
    id_no = validate_id_no(inp.id_no) if inp.id_no else None
    c = deps.cipher
    return CustomerRecord(
        phone_enc=c.encrypt(phone) if phone else None,
        phone_index=c.blind_index(phone) if phone else None,
        phone_masked=mask_phone(phone) if phone else "",
        name_enc=c.encrypt(name) if name else None,
        name_masked=mask_name(name) if name else "",
        id_no_enc=c.encrypt(id_no) if id_no else None,
        id_no_masked=mask_id_no(id_no) if id_no else "",
    )


def request_refund(deps: Deps, actor: Actor, req: RefundRequest, *, permission: str = "refund.request") -> RefundCase:
    """A refund request without an idempotency key (CLI, tests): the case itself. ``permission`` names the
    action that allows it: a wrong charge's correction is allowed by ``recon.correct`` (finance), without
    giving finance the right to request any refund."""
    result = _request(deps, actor, req, None, permission)
    assert isinstance(result, RefundCase)
    return result


def request_refund_once(deps: Deps, actor: Actor, req: RefundRequest, idem: Idempotency) -> Answer:
    """The API's request: the same key and body give the first answer again, whatever happened since."""
    result = _request(deps, actor, req, idem)
    assert isinstance(result, Answer)
    return result


def _request(
    deps: Deps, actor: Actor, req: RefundRequest, idem: Idempotency | None, permission: str = "refund.request"
) -> RefundCase | Answer:
    actor.require(permission)
    reason = _checked_input(req)
    customer = protect_customer(deps, req.customer)
    merchant_id = actor.merchant_id or ""
    now = deps.clock.now()
    with deps.uow() as uow:
        if idem is not None and (earlier := _replay(uow, idem)) is not None:
            return earlier
        sale, policy = sale_and_policy_to_refund(uow, actor, merchant_id, req.sale_id)
        amount_fen, priced = refund_items.priced(uow, sale.id, req.items, req.amount_fen)
        req = replace(req, amount_fen=amount_fen)
        if sale.kind in DEPOSIT_KINDS:
            sale = within_deposit_terms(uow, sale, req.amount_fen)
        _check_policy(uow, policy, sale, req, reason, customer, now)
        _reserve(uow, policy, sale, merchant_id, req.amount_fen)
        # What is left is writing; on PostgreSQL it goes to the server with the COMMIT, in one round trip.
        uow.send_writes_with_commit()
        case = RefundCase.open(
            id=deps.ids.new_id("rfd"),
            refund_no=deps.ids.new_refund_no(now),
            merchant_id=merchant_id,
            store_id=sale.store_id,
            terminal_id=sale.terminal_id,
            sale_id=sale.id,
            channel=sale.channel.value,
            amount_fen=req.amount_fen,
            currency=sale.currency,
            reason=reason,
            note=req.note,
            evidence_ids=list(dict.fromkeys(req.evidence_ids)),
            actor=actor,
            policy=policy,
            now=now,
        )
        case.request_id = req.request_id
        uow.refunds.add_case(case, customer)
        flush_case_events(uow, case)
        refund_items.hold_units(uow, actor, case, priced, now)
        answer: Answer | None = None
        if idem is not None:
            sale.reserved_fen += req.amount_fen
            sale.refund_count += 1
            status, body = idem.render(case, sale, customer)
            uow.idempotency.save(idem.scope, idem.key, idem.request_hash, status, body, now)
            answer = Answer(status, body, replayed=False)
        uow.commit()
    return answer or case


def _checked_input(req: RefundRequest) -> Reason:
    """The request's own fields, before anything is read: a known reason, a positive whole amount in fen,
    and no card number in the note."""
    try:
        reason = Reason(req.reason)
    except ValueError:
        raise Invalid("refund.invalid_reason", reason=req.reason) from None
    lowest = 0 if req.items else 1  # with items, the amount may be left for the server to compute
    if isinstance(req.amount_fen, bool) or not isinstance(req.amount_fen, int) or req.amount_fen < lowest:
        raise Invalid("refund.amount_not_positive", amount_fen=req.amount_fen)
    refuse_card_data(req.note, "note")
    return reason


def _replay(uow: UnitOfWork, idem: Idempotency) -> Answer | None:
    """The stored answer of an earlier request with the same key; the same key with another body is refused."""
    earlier = uow.idempotency.lookup(idem.scope, idem.key)
    if earlier is None:
        return None
    if earlier["request_hash"] != idem.request_hash:
        raise Invalid("idempotency.key_reused")
    return Answer(int(earlier["status_code"]), bytes(earlier["body"]), replayed=True)


def _check_policy(
    uow: UnitOfWork,
    policy: RefundPolicy,
    sale: Sale,
    req: RefundRequest,
    reason: Reason,
    customer: CustomerRecord,
    now: datetime,
) -> None:
    """Refuse a request the merchant's policy does not allow, naming every rule it breaks."""
    evidence = uow.evidence.evidence_rows(sale.merchant_id, req.evidence_ids)
    if len(evidence) != len(set(req.evidence_ids)):
        raise Invalid("evidence.not_found")
    violations = check_request(
        policy,
        sale,
        req.amount_fen,
        reason,
        {str(e["kind"]) for e in evidence},
        customer.phone_enc is not None,
        now,
    )
    if violations:
        first = violations[0]
        raise Invalid(
            first.code,
            **first.params,
            violations=[v.code for v in violations],
            rules=[{"code": v.code, "params": v.params} for v in violations],  # each rule, explained
        )


def _reserve(uow: UnitOfWork, policy: RefundPolicy, sale: Sale, merchant_id: str, amount_fen: int) -> None:
    """Reserve the amount on the sale with one conditional update; when another request won the race, read
    what is left now and explain."""
    if uow.sales.reserve(sale.id, amount_fen, policy.max_partial_refunds):
        return
    fresh = uow.sales.get_sale(merchant_id, sale.id)
    assert fresh is not None
    if fresh.refund_count >= policy.max_partial_refunds:
        raise Invalid("policy.partial_limit", max_partial_refunds=policy.max_partial_refunds)
    raise Invalid("refund.exceeds_refundable", amount_fen=amount_fen, refundable_fen=fresh.refundable_fen)


def _load(uow: UnitOfWork, actor: Actor, case_id: str) -> RefundCase:
    case = uow.refunds.get_case(actor.merchant_id or "", case_id)
    if case is None or (actor.terminal_id is not None and case.terminal_id != actor.terminal_id):
        raise NotFound("refund.not_found")
    return case


def settle_reservation(uow: UnitOfWork, case: RefundCase, before: RefundStatus) -> None:
    """Move the reserved amount when the case has just become final: into ``refunded`` on success, back to
    the sale when it let go of it (rejected, cancelled, closed). Runs in the same transaction as the case."""
    if case.status is before:
        return
    refund_items.settle_units(uow, case, before)
    if case.status is RefundStatus.SUCCEEDED:
        uow.sales.settle_refund(case.sale_id, case.amount_fen)
        settling.settle_if_paid(uow, case.sale_id, case.succeeded_at or case.updated_at)
    elif before not in RELEASED and case.status in RELEASED:
        uow.sales.release(case.sale_id, case.amount_fen)
    elif before is RefundStatus.UNKNOWN and case.status is RefundStatus.FAILED:
        uow.sales.release(case.sale_id, case.amount_fen)  # proven by evidence: nothing moved, nothing resent


def change_case(
    deps: Deps, actor: Actor, case_id: str, step: Callable[[RefundCase, UnitOfWork, datetime], None]
) -> RefundCase:
    """A person's step on one case, in one transaction: load it (own merchant, own terminal), apply the step,
    save with compare-and-set, move the reservation if the case just became final, record its events."""
    now = deps.clock.now()
    with deps.uow() as uow:
        case = _load(uow, actor, case_id)
        before = case.status
        step(case, uow, now)
        uow.refunds.save_case(case)
        settle_reservation(uow, case, before)
        flush_case_events(uow, case)
        uow.commit()
    return case


def approve(deps: Deps, actor: Actor, case_id: str, reason: str = "") -> RefundCase:
    actor.require("refund.review")
    refuse_card_data(reason, "reason")
    return change_case(
        deps, actor, case_id, lambda c, uow, now: c.approve(actor, policy_of(uow, c.merchant_id), reason, now)
    )


def reject(deps: Deps, actor: Actor, case_id: str, reason: str) -> RefundCase:
    actor.require("refund.review")
    refuse_card_data(reason, "reason")
    return change_case(deps, actor, case_id, lambda c, _uow, now: c.reject(actor, reason, now))


def cancel(deps: Deps, actor: Actor, case_id: str, reason: str = "") -> RefundCase:
    actor.require("refund.cancel")
    refuse_card_data(reason, "reason")
    return change_case(deps, actor, case_id, lambda c, _uow, now: c.cancel(actor, reason, now))


@dataclass(frozen=True)
class CaseView:
    case: RefundCase
    customer: CustomerRecord


def get_case(deps: Deps, actor: Actor, case_id: str) -> CaseView:
    actor.require("refund.read")
    with deps.uow(readonly=True) as uow:
        case = _load(uow, actor, case_id)
        return CaseView(case, uow.refunds.customer(case.id))


def list_cases(deps: Deps, actor: Actor, query: RefundQuery) -> tuple[list[CaseView], int]:
    views, total = page_cases(deps, actor, query, count=True)
    assert total is not None
    return views, total


def page_cases(deps: Deps, actor: Actor, query: RefundQuery, *, count: bool) -> tuple[list[CaseView], int | None]:
    """One page of the caller's cases, with how many match in all only when ``count`` asks (a count walks
    every matching case: the one cost of a list that grows with the merchant)."""
    actor.require("refund.read")
    with deps.uow(readonly=True) as uow:
        if actor.terminal_id is not None:
            query = replace(query, terminal_id=actor.terminal_id)
        merchant = actor.merchant_id or ""
        cases = uow.refunds.find_cases(merchant, query)
        total = uow.refunds.count_cases(merchant, query) if count else None
        customers = uow.refunds.customers_masked([c.id for c in cases])
    return [CaseView(c, customers[c.id]) for c in cases], total


def find_by_phone(deps: Deps, actor: Actor, phone: str, limit: int = 50) -> list[CaseView]:
    """Customer service looks a customer up by phone; the match runs on the blind index, never clear text."""
    actor.require("refund.reveal_pii")
    index = deps.cipher.blind_index(normalise_phone(phone))
    views, _ = list_cases(deps, actor, RefundQuery(phone_index=index, limit=limit))
    return views


def reveal_customer(deps: Deps, actor: Actor, case_id: str, purpose: str) -> dict[str, Any]:
    """The customer's contact in clear, for a role allowed to call them; every reveal is audited."""
    actor.require("refund.reveal_pii")
    if not purpose.strip():
        raise Invalid("pii.purpose_required")
    refuse_card_data(purpose, "purpose")
    now = deps.clock.now()
    with deps.uow() as uow:
        case = _load(uow, actor, case_id)
        rec = uow.refunds.customer(case.id)
        c = deps.cipher
        clear = {
            "phone": c.decrypt(rec.phone_enc) if rec.phone_enc else None,
            "name": c.decrypt(rec.name_enc) if rec.name_enc else None,
            "id_no": c.decrypt(rec.id_no_enc) if rec.id_no_enc else None,
        }
        record_on_case(
            uow,
            actor,
            case,
            "customer.revealed",
            now,
            reason=purpose,
            fields=[k for k, v in clear.items() if v is not None],
        )
        uow.commit()
    return clear


def case_events(deps: Deps, actor: Actor, case_id: str) -> list[AuditEventRow]:
    actor.require("audit.read")
    with deps.uow(readonly=True) as uow:
        case = _load(uow, actor, case_id)
        return uow.audit.case_events(case.merchant_id, case.id)


def pending_review(deps: Deps, actor: Actor, limit: int = 100) -> tuple[list[CaseView], int]:
    """The supervisor's queue: oldest first."""
    actor.require("refund.review")
    return list_cases(
        deps, actor, RefundQuery(status=RefundStatus.PENDING_REVIEW.value, oldest_first=True, limit=limit)
    )


def created_between(start: datetime | None, end: datetime | None) -> None:
    if start and end and start >= end:
        raise Invalid("request.bad_range")


def customer_history(deps: Deps, actor: Actor, case_id: str, limit: int = 20) -> list[CaseView]:
    """The same customer's other refunds at this merchant, matched on the phone's blind index."""
    actor.require("refund.read")
    with deps.uow(readonly=True) as uow:
        case = _load(uow, actor, case_id)
        index = uow.refunds.customer(case.id).phone_index
    if not index:
        return []
    views, _ = list_cases(deps, actor, RefundQuery(phone_index=index, limit=limit + 1))
    return [v for v in views if v.case.id != case_id][:limit]
