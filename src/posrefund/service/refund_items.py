"""Refunds of some units of a sale's item lines: the amount is the units' worth, computed here from the lines
as the till recorded them, never taken from the person asking; the units are held in the same transaction as
the case, and become refunded or go back to their line when the case is final."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from posrefund.domain.errors import Conflict, Invalid
from posrefund.domain.refund import RELEASED, RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.domain.sale_items import MAX_LINES, ItemRefund, price_items
from posrefund.ports import UnitOfWork
from posrefund.service.records import record_on_case


def asked_units(items: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Line → units from the request; a line named twice or a list longer than a sale can have is refused."""
    if len(items) > MAX_LINES:
        raise Invalid("sale.items_too_many", max=MAX_LINES)
    asked: dict[int, int] = {}
    for line, units in items:
        if line in asked:
            raise Invalid("refund.item_duplicate_line", line=line)
        asked[line] = units
    return asked


def priced(
    uow: UnitOfWork, sale_id: str, items: Sequence[tuple[int, int]], amount_fen: int
) -> tuple[int, list[ItemRefund]]:
    """The amount of the units a request names, and the units priced (``amount_fen`` as sent, and nothing,
    when it names none). An amount sent along must be that same amount: the server's figure is refunded."""
    if not items:
        return amount_fen, []
    units = price_items(uow.sale_items.lines(sale_id), asked_units(items))
    amount = sum(item.amount_fen for item in units)
    if amount_fen and amount_fen != amount:
        raise Invalid("refund.item_amount_mismatch", amount_fen=amount_fen, items_fen=amount)
    if amount <= 0:
        raise Invalid("refund.amount_not_positive", amount_fen=amount)
    return amount, units


def hold_units(uow: UnitOfWork, actor: Actor, case: RefundCase, priced: Sequence[ItemRefund], now: datetime) -> None:
    """Hold the priced units for the new case, and record which; another refund that took units of a line
    since they were priced makes this one start again (409), so no unit is refunded twice or at another price."""
    if not priced:
        return
    if not uow.sale_items.hold(case.sale_id, priced):
        raise Conflict("refund.items_changed")
    uow.sale_items.add_refund_items(case.id, case.sale_id, priced)
    lines = [{"line": i.line, "quantity": i.quantity, "amount_fen": i.amount_fen} for i in priced]
    record_on_case(uow, actor, case, "refund.items_held", now, items=lines)


def settle_units(uow: UnitOfWork, case: RefundCase, before: RefundStatus) -> None:
    """The units follow the case's amount (``settle_reservation``): refunded on success, back on release."""
    if case.status is RefundStatus.SUCCEEDED:
        uow.sale_items.settle(case.id, refunded=True)
    elif (before not in RELEASED and case.status in RELEASED) or (
        before is RefundStatus.UNKNOWN and case.status is RefundStatus.FAILED
    ):
        uow.sale_items.settle(case.id, refunded=False)
