"""Money taken before the service — 定金, 订金, 押金 — and how much of it goes back when the deal ends.

The three are different in law, and staff mix up their names, so the kind is fixed when the payment is
recorded and the arithmetic of each lives here, in one pure function (``propose``), in integer fen:

* 定金 (earnest money, Civil Code arts. 586–588): only up to 20 % of the contract's value is 定金; the part
  above it is an advance and always goes back. The payer breaks the deal → the 定金 part is kept; the receiver
  (the merchant) breaks it → the payer gets it back twice (定金罚则): the deposit by the original route and the
  penalty, as much again as the 定金 part, from the merchant's own money. Otherwise it goes back.
* 订金 (advance payment): part of the price, back in full, less documented costs when the terms allow them
  (never when the merchant broke the deal).
* 押金 (security deposit): back when the item comes back, less itemised deductions, each with a reason and
  evidence.

A proposal is a total for the deposit (what the terms give back in all); what was already returned is taken
off, so a second proposal after a refund pays only the difference, and nothing ever goes back through the
original route beyond what was taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from posrefund.domain.errors import Invalid
from posrefund.domain.money import format_yuan
from posrefund.domain.sale import KIND_LABELS, SaleKind

EARNEST_SHARE_PERCENT = 20  # Civil Code art. 586: 定金 may not exceed 20 % of the contract's value
FULL_BP = 10_000  # basis points of the deposit: the whole of it
MAX_TEXT = 200  # characters of a deduction's reason or evidence reference
MAX_DEDUCTIONS = 50


class DepositKind(StrEnum):
    """The same values as the sale's kind (``domain.sale.SaleKind``): the payment says what it is."""

    EARNEST = "deposit"  # 定金
    ADVANCE = "advance"  # 订金
    SECURITY = "security"  # 押金


def kind_label(kind: DepositKind) -> tuple[str, str]:
    """The kind's name in Chinese and English: the sale's own label for the same kind."""
    return KIND_LABELS[SaleKind(kind.value)]


class Ending(StrEnum):
    """How the deal ended: who cancelled or broke it, or that the item came back."""

    CUSTOMER_BREACH = "customer_breach"  # 顾客违约 / 顾客取消
    MERCHANT_BREACH = "merchant_breach"  # 商户违约
    BOTH_BREACH = "both_breach"  # 双方违约
    MUTUAL = "mutual"  # 协商解除，双方均无过错
    FORCE_MAJEURE = "force_majeure"  # 不可抗力
    FULFILLED = "fulfilled"  # 合同已履行，定金 / 订金未抵作价款
    ITEM_RETURNED = "item_returned"  # 押金：物品已归还


ENDING_LABELS: dict[Ending, tuple[str, str]] = {
    Ending.CUSTOMER_BREACH: ("顾客违约（取消）", "the customer broke or cancelled the deal"),
    Ending.MERCHANT_BREACH: ("商户违约", "the merchant broke the deal"),
    Ending.BOTH_BREACH: ("双方违约", "both broke the deal"),
    Ending.MUTUAL: ("协商解除，双方均无过错", "ended by agreement, nobody at fault"),
    Ending.FORCE_MAJEURE: ("不可抗力", "force majeure"),
    Ending.FULFILLED: ("合同已履行", "the contract was performed"),
    Ending.ITEM_RETURNED: ("物品已归还", "the item was returned"),
}

_DEAL_ENDINGS = frozenset(Ending) - {Ending.ITEM_RETURNED}
ENDINGS_OF: dict[DepositKind, frozenset[Ending]] = {
    DepositKind.EARNEST: _DEAL_ENDINGS,
    DepositKind.ADVANCE: _DEAL_ENDINGS,
    DepositKind.SECURITY: frozenset({Ending.ITEM_RETURNED}),
}


@dataclass(frozen=True, slots=True)
class DepositFacts:
    """What the arithmetic needs of one deposit and its terms."""

    kind: DepositKind
    paid_fen: int
    contract_value_fen: int
    currency: str = "CNY"
    costs_deductible: bool = False  # 订金: the terms allow documented costs to be deducted
    max_deduction_bp: int = FULL_BP  # 订金 costs / 押金 deductions together, at most this share of the deposit


@dataclass(frozen=True, slots=True)
class Deduction:
    """One documented cost (订金) or one itemised deduction (押金): amount, why, and the evidence for it."""

    amount_fen: int
    reason: str
    evidence_ref: str


@dataclass(frozen=True, slots=True)
class Returned:
    """What already went back: through the original route (refunded and still reserved on the sale) and as
    penalty (the 定金罚则's payouts not cancelled)."""

    back_fen: int = 0
    penalty_fen: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the explanation, in both languages."""

    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """What goes back: ``back_total_fen`` by the original route and ``penalty_total_fen`` by bank transfer in
    all; ``*_now_fen`` what is still to pay after what already went back."""

    kind: DepositKind
    ending: Ending
    paid_fen: int
    earnest_fen: int  # the part that is 定金 (0 for 订金 and 押金)
    advance_fen: int  # the part above 20 % of the contract: an advance, back in full (定金 only)
    deducted_fen: int
    kept_fen: int  # what the merchant keeps of the deposit
    back_total_fen: int
    penalty_total_fen: int
    back_now_fen: int
    penalty_now_fen: int
    steps: tuple[Step, ...]
    overridden: bool = False


def earnest_part(paid_fen: int, contract_value_fen: int) -> int:
    """The part of the payment that is 定金: at most 20 % of the contract's value, rounded down to the fen."""
    return min(paid_fen, contract_value_fen * EARNEST_SHARE_PERCENT // 100)


def check_facts(facts: DepositFacts) -> None:
    """A deposit the arithmetic can work with: positive amounts, a share of deductions within the whole."""
    for name in ("paid_fen", "contract_value_fen", "max_deduction_bp"):
        value = getattr(facts, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Invalid("deposit.invalid_field", field=name)
    if facts.paid_fen <= 0:
        raise Invalid("deposit.invalid_field", field="paid_fen")
    if facts.max_deduction_bp > FULL_BP:
        raise Invalid("deposit.invalid_field", field="max_deduction_bp")
    if facts.kind is DepositKind.EARNEST and facts.contract_value_fen < facts.paid_fen:
        raise Invalid("deposit.contract_below_paid", contract_value_fen=facts.contract_value_fen)


def check_deductions(deductions: Sequence[Deduction]) -> int:
    """Each deduction a positive amount with a reason and an evidence reference; their sum."""
    if len(deductions) > MAX_DEDUCTIONS:
        raise Invalid("deposit.invalid_field", field="deductions")
    total = 0
    for i, d in enumerate(deductions):
        if isinstance(d.amount_fen, bool) or not isinstance(d.amount_fen, int) or d.amount_fen <= 0:
            raise Invalid("deposit.invalid_field", field=f"deductions[{i}].amount_fen")
        if not d.reason.strip() or len(d.reason) > MAX_TEXT:
            raise Invalid("deposit.deduction_reason_required", index=i)
        if not d.evidence_ref.strip() or len(d.evidence_ref) > MAX_TEXT:
            raise Invalid("deposit.deduction_evidence_required", index=i)
        total += d.amount_fen
    return total


def _y(fen: int, currency: str) -> str:
    return format_yuan(fen, currency)


def _earnest(facts: DepositFacts, ending: Ending) -> tuple[int, int, int, int, list[Step]]:
    """定金: (earnest part, advance part, back, penalty, steps)."""
    c = facts.currency
    cap = facts.contract_value_fen * EARNEST_SHARE_PERCENT // 100
    earnest = earnest_part(facts.paid_fen, facts.contract_value_fen)
    advance = facts.paid_fen - earnest
    steps = [
        Step(
            f"合同金额 {_y(facts.contract_value_fen, c)} × 20% = 定金上限 {_y(cap, c)}（民法典第586条）",
            f"contract value {_y(facts.contract_value_fen, c)} × 20% = 定金 cap {_y(cap, c)} (Civil Code art. 586)",
        ),
        Step(
            f"已付 {_y(facts.paid_fen, c)}：定金部分 {_y(earnest, c)}，"
            f"超出部分 {_y(advance, c)} 不是定金，作预付款全额退还",
            f"paid {_y(facts.paid_fen, c)}: 定金 part {_y(earnest, c)}; the {_y(advance, c)} above the cap is not 定金 "
            "but an advance, returned in full",
        ),
    ]
    if ending is Ending.CUSTOMER_BREACH:
        steps.append(
            Step(
                f"顾客违约：定金 {_y(earnest, c)} 不予退还（民法典第587条），退还 {_y(advance, c)}",
                f"the customer broke the deal: the 定金 {_y(earnest, c)} is kept (art. 587); {_y(advance, c)} back",
            )
        )
        return earnest, advance, advance, 0, steps
    if ending is Ending.MERCHANT_BREACH:
        steps.append(
            Step(
                f"商户违约：双倍返还定金（民法典第587条）——原路退还已付 {_y(facts.paid_fen, c)}，"
                f"另以银行转账支付定金罚金 {_y(earnest, c)}",
                f"the merchant broke the deal: the 定金 is returned double (art. 587) — the {_y(facts.paid_fen, c)} "
                f"paid back by the original route, and a penalty of {_y(earnest, c)} by bank transfer",
            )
        )
        return earnest, advance, facts.paid_fen, earnest, steps
    steps.append(
        Step(
            f"{ENDING_LABELS[ending][0]}：不适用定金罚则，原路全额退还 {_y(facts.paid_fen, c)}",
            f"{ENDING_LABELS[ending][1]}: no 定金 penalty applies; {_y(facts.paid_fen, c)} back in full",
        )
    )
    return earnest, advance, facts.paid_fen, 0, steps


def _deductible(facts: DepositFacts, ending: Ending, deducted: int) -> None:
    """Refuse deductions the kind or the terms do not allow, or beyond the terms' share of the deposit."""
    if not deducted:
        return
    if facts.kind is DepositKind.EARNEST:
        raise Invalid("deposit.deductions_not_allowed", kind=facts.kind.value)
    if facts.kind is DepositKind.ADVANCE and (not facts.costs_deductible or ending is Ending.MERCHANT_BREACH):
        raise Invalid("deposit.costs_not_allowed", ending=ending.value)
    limit = facts.paid_fen * facts.max_deduction_bp // FULL_BP
    if deducted > limit:
        raise Invalid("deposit.deductions_exceed_terms", deducted_fen=deducted, limit_fen=limit)


def _deducted_steps(facts: DepositFacts, deductions: Sequence[Deduction], deducted: int) -> list[Step]:
    c = facts.currency
    word = ("成本", "cost") if facts.kind is DepositKind.ADVANCE else ("扣款", "deduction")
    steps = [
        Step(
            f"扣除{word[0]}：{d.reason} {_y(d.amount_fen, c)}（凭证 {d.evidence_ref}）",
            f"{word[1]}: {d.reason} {_y(d.amount_fen, c)} (evidence {d.evidence_ref})",
        )
        for d in deductions
    ]
    back = facts.paid_fen - deducted
    steps.append(
        Step(
            f"已付 {_y(facts.paid_fen, c)} − 扣除合计 {_y(deducted, c)} = 原路退还 {_y(back, c)}",
            f"paid {_y(facts.paid_fen, c)} − deductions {_y(deducted, c)} = {_y(back, c)} back by the original route",
        )
    )
    return steps


def _already(facts: DepositFacts, back_total: int, penalty_total: int, already: Returned) -> list[Step]:
    if not (already.back_fen or already.penalty_fen):
        return []
    c = facts.currency
    back_now = max(0, back_total - already.back_fen)
    penalty_now = max(0, penalty_total - already.penalty_fen)
    return [
        Step(
            f"已原路退还 {_y(already.back_fen, c)}、已付罚金 {_y(already.penalty_fen, c)}："
            f"本次原路退还 {_y(back_now, c)}，罚金 {_y(penalty_now, c)}",
            f"already returned {_y(already.back_fen, c)} by the original route and {_y(already.penalty_fen, c)} "
            f"as penalty: {_y(back_now, c)} back now, penalty {_y(penalty_now, c)}",
        )
    ]


def propose(
    facts: DepositFacts, ending: Ending, deductions: Sequence[Deduction] = (), already: Returned = Returned()
) -> Proposal:
    """What the terms give back for this ending, step by step; refused when the kind or the terms do not
    allow the ending or the deductions."""
    check_facts(facts)
    if ending not in ENDINGS_OF[facts.kind]:
        raise Invalid("deposit.ending_not_for_kind", ending=ending.value, kind=facts.kind.value)
    deducted = check_deductions(deductions)
    _deductible(facts, ending, deducted)
    c = facts.currency
    if facts.kind is DepositKind.EARNEST:
        earnest, advance, back, penalty, steps = _earnest(facts, ending)
    else:
        earnest, advance, back, penalty = 0, 0, facts.paid_fen - deducted, 0
        label = kind_label(facts.kind)
        steps = [
            Step(
                f"{label[0]} {_y(facts.paid_fen, c)}，{ENDING_LABELS[ending][0]}",
                f"{label[1]} of {_y(facts.paid_fen, c)}; {ENDING_LABELS[ending][1]}",
            ),
            *_deducted_steps(facts, deductions, deducted),
        ]
    steps += _already(facts, back, penalty, already)
    return Proposal(
        kind=facts.kind,
        ending=ending,
        paid_fen=facts.paid_fen,
        earnest_fen=earnest,
        advance_fen=advance,
        deducted_fen=deducted,
        kept_fen=facts.paid_fen - back,
        back_total_fen=back,
        penalty_total_fen=penalty,
        back_now_fen=max(0, back - already.back_fen),
        penalty_now_fen=max(0, penalty - already.penalty_fen),
        steps=tuple(steps),
    )


def override(
    proposal: Proposal, back_total_fen: int, penalty_total_fen: int, reason: str, already: Returned, currency: str
) -> Proposal:
    """A supervisor's amounts in place of the terms' (totals for the deposit, like the proposal's), with a
    reason. Even overridden, the original route never gives back more than was paid, and the penalty is never
    more than the deposit again."""
    if not reason.strip():
        raise Invalid("deposit.override_reason_required")
    if len(reason) > MAX_TEXT:
        raise Invalid("deposit.invalid_field", field="reason")
    for name, value in (("back_total_fen", back_total_fen), ("penalty_total_fen", penalty_total_fen)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Invalid("deposit.invalid_field", field=name)
    if back_total_fen > proposal.paid_fen:
        raise Invalid("deposit.override_exceeds_paid", back_total_fen=back_total_fen, paid_fen=proposal.paid_fen)
    if penalty_total_fen > proposal.paid_fen:
        raise Invalid("deposit.override_penalty_too_large", penalty_total_fen=penalty_total_fen)
    c = currency
    step = Step(
        f"主管调整：原路退还合计 {_y(back_total_fen, c)}，罚金合计 {_y(penalty_total_fen, c)}（理由：{reason}）",
        f"supervisor's override: {_y(back_total_fen, c)} back by the original route and {_y(penalty_total_fen, c)} "
        f"penalty in all (reason: {reason})",
    )
    return replace(
        proposal,
        back_total_fen=back_total_fen,
        penalty_total_fen=penalty_total_fen,
        kept_fen=proposal.paid_fen - back_total_fen,
        back_now_fen=max(0, back_total_fen - already.back_fen),
        penalty_now_fen=max(0, penalty_total_fen - already.penalty_fen),
        steps=(*proposal.steps, step),
        overridden=True,
    )


def check_refund_within_terms(allowed_back_fen: int | None, already_back_fen: int, amount_fen: int) -> None:
    """A refund of a deposit with terms goes only as far as its accepted proposal allows (the original-route
    total, less what went back or is on its way); without one it is refused."""
    if allowed_back_fen is None:
        raise Invalid("deposit.proposal_required")
    left = max(0, allowed_back_fen - already_back_fen)
    if amount_fen > left:
        raise Invalid("deposit.exceeds_terms", amount_fen=amount_fen, allowed_fen=left)
