"""The sale a refund is asked of: the merchant's own (a terminal's token sees only its own terminal's sales;
others do not exist for it), and one the channel has not voided — a card 预授权完成 cancelled the same day took
nothing, and the acquirer refuses its refund (25), so posrefund refuses it first (409 ``sale.voided``)."""

from __future__ import annotations

from posrefund.domain.errors import Conflict, NotFound
from posrefund.domain.policy import RefundPolicy
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale, SettlementStatus
from posrefund.ports import UnitOfWork


def sale_to_refund(uow: UnitOfWork, actor: Actor, merchant_id: str, sale_id: str) -> Sale:
    return _refundable(actor, uow.sales.get_sale(merchant_id, sale_id))


def sale_and_policy_to_refund(
    uow: UnitOfWork, actor: Actor, merchant_id: str, sale_id: str
) -> tuple[Sale, RefundPolicy]:
    """The sale, as ``sale_to_refund``, and the merchant's policy (the default when none is stored), read in
    one statement: a refund request needs both."""
    found = uow.sales.get_sale_and_policy(merchant_id, sale_id)
    sale = _refundable(actor, found[0] if found else None)
    return sale, (found[1] if found else None) or RefundPolicy()


def _refundable(actor: Actor, sale: Sale | None) -> Sale:
    if sale is None or (actor.terminal_id is not None and actor.terminal_id != sale.terminal_id):
        raise NotFound("sale.not_found")
    if sale.settlement_status is SettlementStatus.VOIDED:
        raise Conflict("sale.voided")
    return sale
