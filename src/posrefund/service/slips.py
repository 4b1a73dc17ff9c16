"""The printed refund slip (退款凭条) handed to the customer at the counter: who refunded what, where the money
goes, and a QR code of the case's tracking page. Printing one hands out that signed link, so each print is an
audit event on the case, as showing the link is."""

from __future__ import annotations

from dataclasses import dataclass

from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale
from posrefund.domain.sale_items import ItemRefund
from posrefund.ports import CustomerRecord
from posrefund.service.deps import Deps
from posrefund.service.notifications.sending import NotifyRouter
from posrefund.service.records import record_on_case
from posrefund.service.sales import case_items, get_sale


@dataclass(frozen=True)
class Slip:
    case: RefundCase
    customer: CustomerRecord
    sale: Sale
    merchant_name: str
    store_name: str
    terminal_no: str
    units: list[ItemRefund]
    line_names: dict[int, str]
    tracking_url: str


def refund_slip(deps: Deps, actor: Actor, router: NotifyRouter, case_id: str, paper: str) -> Slip:
    """The slip's facts and a fresh tracking link; another merchant's case is 404, a role that does not
    serve customers at the counter 403."""
    actor.require("refund.slip")
    case, units, lines = case_items(deps, actor, case_id)
    sale = get_sale(deps, actor, case.sale_id)
    now = deps.clock.now()
    merchant_id = case.merchant_id
    with deps.uow() as uow:
        merchant = uow.merchants.get_merchant(merchant_id)
        store = uow.merchants.get_store(merchant_id, case.store_id)
        terminal = uow.merchants.get_terminal(merchant_id, case.terminal_id)
        customer = uow.refunds.customer(case.id)
        link = router.link(deps, case.id, now)
        record_on_case(uow, actor, case, "refund.slip_printed", now, paper=paper, valid_days=router.link_days)
        uow.commit()
    return Slip(
        case=case,
        customer=customer,
        sale=sale,
        merchant_name=merchant["name"] if merchant else "",
        store_name=store["name"] if store else "",
        terminal_no=terminal["terminal_no"] if terminal else "",
        units=units,
        line_names={line.line: line.name for line in lines},
        tracking_url=link,
    )
