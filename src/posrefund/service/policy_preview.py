"""Before an admin saves a new refund policy: what it would have done to the last 30 days' refunds. Each refund
of the period is judged again as it was asked — its sale, amount, reason, evidence and customer phone at that
time — under the policy in force and under the proposal: how many would have needed a person's review, two
people, and how many would have been refused (and by which rule). Nothing is changed or recorded: a preview."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from posrefund.domain.policy import RefundPolicy, check_request
from posrefund.domain.refund import RefundCase
from posrefund.domain.review import approvals_needed, auto_approvable
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale
from posrefund.ports import RefundQuery, UnitOfWork
from posrefund.service.deps import Deps

DAYS = 30
MAX_CASES = 2_000  # the newest ones: a preview, not a report


@dataclass
class Outcome:
    """How a policy would have treated the period's refunds."""

    review: int = 0  # above the auto-approval limit: a supervisor looks first
    two_person: int = 0
    refused: int = 0
    refused_by: Counter[str] = field(default_factory=Counter)  # rule code → refunds it alone or with others refused


@dataclass(frozen=True)
class PolicyPreview:
    cases: int
    days: int
    current: Outcome
    proposed: Outcome
    capped: bool  # more refunds than MAX_CASES in the period: only the newest were judged


def _judge(outcome: Outcome, policy: RefundPolicy, case: RefundCase, sale: Sale, kinds: set[str], phone: bool) -> None:
    # The sale as if no other refund had touched it: its own refunds are history, not a rule of the policy.
    fresh = replace(sale, refunded_fen=0, reserved_fen=0, refund_count=0)
    broken = check_request(policy, fresh, case.amount_fen, case.reason, kinds, phone, case.created_at)
    if broken:
        outcome.refused += 1
        outcome.refused_by.update({v.code for v in broken})
        return
    if not auto_approvable(policy, case.amount_fen):
        outcome.review += 1
    if approvals_needed(policy, case.amount_fen) > 1:
        outcome.two_person += 1


def _period(uow: UnitOfWork, merchant_id: str, deps: Deps) -> list[RefundCase]:
    now = deps.clock.now()
    query = RefundQuery(created_from=now - timedelta(days=DAYS), limit=MAX_CASES + 1)
    return uow.refunds.find_cases(merchant_id, query)


def preview(deps: Deps, actor: Actor, document: dict[str, Any]) -> PolicyPreview:
    """The proposal (checked as saving would check it) against the policy in force, over the last 30 days."""
    actor.require("policy.write")
    proposed = RefundPolicy.from_dict(document)
    merchant_id = actor.merchant_id or ""
    current_out, proposed_out = Outcome(), Outcome()
    with deps.uow(readonly=True) as uow:
        current = uow.policies.get_policy(merchant_id) or RefundPolicy()
        cases = _period(uow, merchant_id, deps)
        capped = len(cases) > MAX_CASES
        cases = cases[:MAX_CASES]
        customers = uow.refunds.customers_masked([c.id for c in cases])
        sales: dict[str, Sale | None] = {}
        for case in cases:
            if case.sale_id not in sales:
                sales[case.sale_id] = uow.sales.get_sale(merchant_id, case.sale_id)
            sale = sales[case.sale_id]
            if sale is None:
                continue
            kinds = {str(e["kind"]) for e in uow.evidence.evidence_rows(merchant_id, case.evidence_ids)}
            phone = bool(customers[case.id].phone_masked) if case.id in customers else False
            _judge(current_out, current, case, sale, kinds, phone)
            _judge(proposed_out, proposed, case, sale, kinds, phone)
    return PolicyPreview(len(cases), DAYS, current_out, proposed_out, capped)
