"""What a store's staff read about its deposits in one place: the deposits (narrowed by store, kind and
state), those held beyond their terms, the proposals waiting for someone to accept them and the penalty
transfers waiting to be confirmed; and the deposit a voucher or order number names at the counter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from posrefund.domain.deposits import DepositKind
from posrefund.domain.errors import Invalid
from posrefund.domain.roles import PERMISSIONS, Actor
from posrefund.ports.deposits import DepositRow, DeskDepositRow, DeskFilter, PayoutRow, ProposalRow
from posrefund.service import sales
from posrefund.service.deps import Deps

STATUSES = ("held", "settling", "settled")
MAX_TEXT = 64
FOUND_AT_MOST = 20


@dataclass
class Desk:
    """The store's deposits with ``today`` (Asia/Shanghai) to tell which are held beyond their terms."""

    today: date
    deposits: list[DeskDepositRow] = field(default_factory=list)
    proposals: list[ProposalRow] = field(default_factory=list)
    payouts: list[PayoutRow] = field(default_factory=list)

    @property
    def overdue(self) -> list[DeskDepositRow]:
        """Still held after the date their terms say they are due back, the longest overdue first."""
        late = [d for d in self.deposits if d["status"] == "held" and d["held_until"] < self.today]
        return sorted(late, key=lambda d: (d["held_until"], d["id"]))


def _check(chosen: DeskFilter) -> None:
    if chosen.kind and chosen.kind not in {k.value for k in DepositKind}:
        raise Invalid("deposit.invalid_kind", kind=chosen.kind)
    if chosen.status and chosen.status not in STATUSES:
        raise Invalid("deposit.invalid_field", field="status")
    if len(chosen.store_id) > MAX_TEXT:
        raise Invalid("deposit.invalid_field", field="store_id")


def desk(deps: Deps, actor: Actor, chosen: DeskFilter) -> Desk:
    """The merchant's deposits as ``chosen`` narrows them, and what waits on them (another merchant's never)."""
    actor.require("deposit.read")
    _check(chosen)
    merchant_id = actor.merchant_id or ""
    limit = max(1, min(chosen.limit, 500))
    with deps.uow(readonly=True) as uow:
        return Desk(
            today=deps.local_date(deps.clock.now()),
            deposits=uow.deposits.desk(merchant_id, DeskFilter(chosen.store_id, chosen.kind, chosen.status, limit)),
            proposals=uow.deposits.open_proposals(merchant_id, chosen.store_id, limit),
            payouts=uow.deposits.awaiting_payouts(merchant_id, chosen.store_id, limit),
        )


def find(deps: Deps, actor: Actor, text: str) -> tuple[list[DepositRow], int]:
    """The deposits whose payment has this voucher or order number, and how many payments it named at all
    (so a sale that is not a deposit can be told apart from nothing found)."""
    actor.require("deposit.read")
    text = text.strip()
    if not text or len(text) > MAX_TEXT or not text.isprintable():
        raise Invalid("search.invalid_text", field="q", max=MAX_TEXT)
    by_voucher = sales.find_sales(deps, actor, voucher_no=text, limit=FOUND_AT_MOST)
    by_order = sales.find_sales(deps, actor, order_no=text, limit=FOUND_AT_MOST)
    found = {s.id: s for s in [*by_voucher, *by_order]}
    with deps.uow(readonly=True) as uow:
        rows = [uow.deposits.deposit_of_sale(sale_id) for sale_id in found]
    return [r for r in rows if r is not None and r["merchant_id"] == actor.merchant_id], len(found)


def of_sale(deps: Deps, actor: Actor, sale_id: str) -> DepositRow | None:
    """The deposit recorded on one of the merchant's payments, if any: the sale's page leads to it, since
    such a payment goes back by its terms, not as a purchase."""
    if actor.role not in PERMISSIONS["deposit.read"]:
        return None
    with deps.uow(readonly=True) as uow:
        row = uow.deposits.deposit_of_sale(sale_id)
    return row if row is not None and row["merchant_id"] == actor.merchant_id else None
