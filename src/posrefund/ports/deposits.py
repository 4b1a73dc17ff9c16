"""Deposits (定金, 订金, 押金): the merchant's terms templates, the deposits recorded on sales, the refund
proposals computed for them and the penalty payouts of a double return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from typing_extensions import TypedDict as PortableTypedDict


class TermsRow(PortableTypedDict):
    """A merchant's template of deposit terms, attached to each deposit recorded under it."""

    id: str
    merchant_id: str
    name: str
    kind: str
    hold_days: int  # the deposit is due back this many days after it was taken (its held-until date)
    costs_deductible: bool
    max_deduction_bp: int
    text: str  # the terms as the customer was shown them
    created_by: str
    created_at: datetime


class DepositRow(PortableTypedDict):
    id: str
    merchant_id: str
    sale_id: str
    terms_id: str
    kind: str
    contract_value_fen: int
    amount_fen: int
    currency: str
    held_until: date
    status: str  # held → settling (a proposal accepted) → settled (everything it gives back succeeded)
    allowed_back_fen: int | None  # the accepted proposal's original-route total; None until one is accepted
    overdue_flagged_at: datetime | None
    recorded_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class DeskDepositRow(DepositRow):
    """A deposit as the store's list shows it: with the payment it was taken by (store, voucher, order, the
    payer's masked account, when it was paid)."""

    store_id: str
    voucher_no: str
    order_no: str
    payer_masked: str
    paid_at: datetime


@dataclass(frozen=True)
class DeskFilter:
    """What the store's deposit list is narrowed to ("" for any): a store, a kind, a state."""

    store_id: str = ""
    kind: str = ""
    status: str = ""
    limit: int = 100


class ProposalRow(PortableTypedDict):
    id: str
    merchant_id: str
    deposit_id: str
    status: str  # proposed → accepted | superseded
    ending: str
    deductions: list[dict[str, Any]]
    figures: dict[str, Any]  # the proposal: its amounts and the explanation's steps
    back_now_fen: int
    penalty_now_fen: int
    basis_back_fen: int  # what had gone back when it was computed: accepted only if nothing moved since
    basis_penalty_fen: int
    override_reason: str
    overridden_by: str
    created_by: str
    created_at: datetime
    decided_by: str
    decided_at: datetime | None
    refund_id: str | None
    payout_id: str
    version: int


class PayoutRow(PortableTypedDict):
    """The penalty of a double return (定金罚则): the merchant's own money, by bank transfer, linked to the
    original-route refund; paid once a second person confirms the transfer."""

    id: str
    merchant_id: str
    deposit_id: str
    proposal_id: str
    refund_id: str | None
    amount_fen: int
    currency: str
    method: str
    status: str  # awaiting_transfer → paid | cancelled
    reference: str
    cancel_reason: str
    created_by: str
    created_at: datetime
    confirmed_by: str
    confirmed_at: datetime | None
    version: int


class DepositRepo(Protocol):
    def add_terms(self, row: TermsRow) -> bool: ...
    def get_terms(self, merchant_id: str, terms_id: str) -> TermsRow | None: ...
    def list_terms(self, merchant_id: str) -> list[TermsRow]: ...
    def add_deposit(self, row: DepositRow) -> bool: ...
    def get_deposit(self, merchant_id: str, deposit_id: str) -> DepositRow | None: ...
    def deposit_of_sale(self, sale_id: str, *, for_update: bool = False) -> DepositRow | None: ...
    def list_deposits(self, merchant_id: str, status: str | None, limit: int) -> list[DepositRow]: ...
    def save_deposit(self, row: DepositRow) -> bool: ...
    def overdue(
        self, merchant_id: str | None, today: date, limit: int, *, unflagged_only: bool = False
    ) -> list[DepositRow]: ...
    def add_proposal(self, row: ProposalRow) -> None: ...
    def get_proposal(self, merchant_id: str, proposal_id: str) -> ProposalRow | None: ...
    def proposals_of(self, deposit_id: str) -> list[ProposalRow]: ...
    def save_proposal(self, row: ProposalRow) -> bool: ...
    def add_payout(self, row: PayoutRow) -> None: ...
    def get_payout(self, merchant_id: str, payout_id: str) -> PayoutRow | None: ...
    def payouts_of(self, deposit_id: str) -> list[PayoutRow]: ...
    def save_payout(self, row: PayoutRow) -> bool: ...
    def desk(self, merchant_id: str, chosen: DeskFilter) -> list[DeskDepositRow]: ...
    def open_proposals(self, merchant_id: str, store_id: str, limit: int) -> list[ProposalRow]: ...
    def awaiting_payouts(self, merchant_id: str, store_id: str, limit: int) -> list[PayoutRow]: ...
