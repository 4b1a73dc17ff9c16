"""The answers of deposits (定金, 订金, 押金): terms templates, deposits, refund proposals with their explanation,
penalty payouts, and what accepting a proposal created."""

from __future__ import annotations

from pydantic import Field

from posrefund.entrypoints.api.responses import Event, Out, RefundOut, SaleOut


class DepositTerms(Out):
    id: str
    merchant_id: str
    name: str
    kind: str = Field(description="`deposit` 定金, `advance` 订金, `security` 押金")
    kind_label: str = Field(description="the kind in Chinese: 定金, 订金, 押金")
    hold_days: int = Field(description="the deposit is due back this many days after it was paid")
    costs_deductible: bool = Field(description="订金: documented costs may be deducted")
    max_deduction_bp: int = Field(description="costs or deductions together at most this share (1/10,000)")
    text: str
    created_by: str
    created_at: str | None


class DepositTermsList(Out):
    items: list[DepositTerms]


class Deposit(Out):
    id: str
    merchant_id: str
    sale_id: str
    terms_id: str
    kind: str
    kind_label: str
    contract_value_fen: int
    amount_fen: int
    currency: str
    held_until: str = Field(description="the local date the deposit is due back by its terms")
    status: str = Field(description="`held`, then `settling` once a proposal was accepted")
    allowed_back_fen: int | None = Field(description="the most that may go back by the original route, in all")
    overdue_flagged_at: str | None
    recorded_by: str
    created_at: str | None
    updated_at: str | None
    version: int


class DepositList(Out):
    items: list[Deposit]


class OverdueDeposit(Deposit):
    days_overdue: int


class OverdueList(Out):
    items: list[OverdueDeposit]


class ExplanationStep(Out):
    zh: str
    en: str


class DeductionOut(Out):
    amount_fen: int
    reason: str
    evidence_ref: str


class ProposalOut(Out):
    id: str
    merchant_id: str
    deposit_id: str
    status: str = Field(description="`proposed`, `accepted`")
    kind: str
    kind_label: str
    ending: str
    ending_label: str
    deductions: list[DeductionOut]
    paid_fen: int
    earnest_fen: int = Field(description="the part that is 定金: at most 20 % of the contract value")
    advance_fen: int = Field(description="定金 paid above the 20 % cap: an advance, returned in full")
    deducted_fen: int
    kept_fen: int
    back_total_fen: int = Field(description="back by the original route, in all")
    penalty_total_fen: int = Field(description="the 定金 penalty of a double return, by bank transfer, in all")
    back_now_fen: int = Field(description="back by the original route on acceptance (what already went back off)")
    penalty_now_fen: int
    basis_back_fen: int
    basis_penalty_fen: int
    overridden: bool
    override_reason: str
    overridden_by: str
    explanation: list[ExplanationStep]
    created_by: str
    created_at: str | None
    decided_by: str
    decided_at: str | None
    refund_id: str | None
    payout_id: str | None
    version: int


class Payout(Out):
    id: str
    merchant_id: str
    deposit_id: str
    proposal_id: str
    refund_id: str | None = Field(description="the original-route refund this penalty goes with")
    amount_fen: int
    currency: str
    method: str
    status: str = Field(description="`awaiting_transfer`, then `paid` or `cancelled`")
    reference: str
    cancel_reason: str
    created_by: str
    created_at: str | None
    confirmed_by: str
    confirmed_at: str | None
    version: int


class DepositDetail(Deposit):
    terms: DepositTerms
    refunded_fen: int
    reserved_fen: int
    proposals: list[ProposalOut]
    payouts: list[Payout]
    events: list[Event]


class DepositRecorded(Out):
    deposit: Deposit
    sale: SaleOut


class ProposalAccepted(Out):
    proposal: ProposalOut
    refund: RefundOut | None
    payout: Payout | None
