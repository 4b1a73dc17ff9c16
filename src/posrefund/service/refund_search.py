"""Finding a refund or a sale from what a person has at hand: the refund slip's number (or the case's own id),
the POS voucher, the order number, the customer's phone ending, or the card's last four digits with the
amount — and one operator's own refunds ("my refunds").

Every lookup goes through the same reads as the lists (``refunds.list_cases``, ``sales.find_sales``), so a
merchant sees only its own cases and a terminal's key only its terminal's."""

from __future__ import annotations

from dataclasses import dataclass, field

from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.refund import RefundStatus
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale
from posrefund.ports import RefundQuery
from posrefund.service import refunds, sales
from posrefund.service.deps import Deps
from posrefund.service.refunds import CaseView

MAX_TEXT = 64
FOUND_AT_MOST = 20


@dataclass(frozen=True)
class Lookup:
    """What a person typed, read as one of the shapes a search understands."""

    text: str = ""  # a refund no., case id, voucher no. or order no.
    last4: str = ""  # the phone's last four digits, or with ``amount_fen`` the card's
    amount_fen: int | None = None


@dataclass
class Found:
    cases: list[CaseView] = field(default_factory=list)
    sales: list[Sale] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.cases) + len(self.sales)


def _check(lookup: Lookup) -> None:
    if lookup.last4 and not (len(lookup.last4) == 4 and lookup.last4.isascii() and lookup.last4.isdigit()):
        raise Invalid("search.invalid_last4", field="q")
    if not lookup.text and not lookup.last4:
        raise Invalid("search.empty", field="q")
    if len(lookup.text) > MAX_TEXT or not lookup.text.isprintable():
        raise Invalid("search.invalid_text", field="q", max=MAX_TEXT)


def find(deps: Deps, actor: Actor, lookup: Lookup) -> Found:
    """Every refund and sale of the operator's merchant the typed value names, at most ``FOUND_AT_MOST`` of each."""
    actor.require("refund.read")
    _check(lookup)
    found = Found()
    if lookup.last4 and lookup.amount_fen is not None:
        found.sales = sales.find_sales(
            deps, actor, last4=lookup.last4, amount_fen=lookup.amount_fen, limit=FOUND_AT_MOST
        )
        return found
    if lookup.last4:
        views, _ = refunds.list_cases(deps, actor, RefundQuery(phone_last4=lookup.last4, limit=FOUND_AT_MOST))
        found.cases = views
        return found
    views, _ = refunds.list_cases(deps, actor, RefundQuery(refund_no=lookup.text, limit=FOUND_AT_MOST))
    found.cases = views
    if not views:
        found.cases = _by_id(deps, actor, lookup.text)
    by_voucher = sales.find_sales(deps, actor, voucher_no=lookup.text, limit=FOUND_AT_MOST)
    by_order = sales.find_sales(deps, actor, order_no=lookup.text, limit=FOUND_AT_MOST)
    seen = {s.id for s in by_voucher}
    found.sales = by_voucher + [s for s in by_order if s.id not in seen]
    return found


def _by_id(deps: Deps, actor: Actor, case_id: str) -> list[CaseView]:
    try:
        return [refunds.get_case(deps, actor, case_id)]
    except DomainError as err:
        if err.code == "refund.not_found":
            return []
        raise


def mine(
    deps: Deps, actor: Actor, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[CaseView], int]:
    """The refunds this operator asked for, newest first, optionally in one state."""
    actor.require("refund.read")
    if status and status not in RefundStatus.__members__.values():
        raise Invalid("search.invalid_status", field="status")
    return refunds.list_cases(
        deps, actor, RefundQuery(requested_by=actor.id, status=status or None, limit=limit, offset=offset)
    )
