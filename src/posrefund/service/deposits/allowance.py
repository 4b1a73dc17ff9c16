"""The core's one question about a deposit: may this refund of its sale go back? (Kept apart from the
proposals, which themselves ask the core for refunds.)"""

from __future__ import annotations

from posrefund.domain.deposits import check_refund_within_terms
from posrefund.domain.sale import Sale
from posrefund.ports import UnitOfWork


def within_deposit_terms(uow: UnitOfWork, sale: Sale, amount_fen: int) -> Sale:
    """A deposit recorded with terms goes back only as far as its accepted proposal allows (domain/deposits.py);
    a deposit sale without terms is refunded as any sale. The deposit's row is locked first and the sale read
    again after, so two requests at once cannot both fit in one allowance. The sale as it is now."""
    deposit = uow.deposits.deposit_of_sale(sale.id, for_update=True)
    if deposit is None:
        return sale
    fresh = uow.sales.get_sale(sale.merchant_id, sale.id)
    assert fresh is not None
    check_refund_within_terms(deposit["allowed_back_fen"], fresh.refunded_fen + fresh.reserved_fen, amount_fen)
    return fresh
