"""The customer's tracking page, reached by a signed link: what it may show, and the two things the
customer can do there (confirm receipt, stop messages). Nothing personal beyond the masked payer."""

from __future__ import annotations

from typing import Any

from posrefund.domain.errors import NotFound
from posrefund.domain.money import format_yuan
from posrefund.domain.notification import route_name, status_name
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor, Role
from posrefund.ports import UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.notifications import follow_up, tracking_links
from posrefund.service.notifications.settings import apply_opt_out


def _case(deps: Deps, uow: UnitOfWork, token: str) -> RefundCase:
    """Raises ``tracking_links.LinkRefused`` for a forged, changed or expired token. A signed link names
    only the case; the merchant is whichever owns it."""
    case_id = tracking_links.verify(deps.secret_key, token, deps.clock.now())
    merchant_id = uow.refunds.case_merchant(case_id)
    case = uow.refunds.get_case(merchant_id, case_id) if merchant_id else None
    if case is None:
        raise NotFound("refund.not_found")
    return case


def _answering_customer(deps: Deps, uow: UnitOfWork, token: str) -> tuple[RefundCase, Actor]:
    """The case a tracking link names and its customer, who may answer on it (confirm receipt, opt out)."""
    case = _case(deps, uow, token)
    actor = customer_actor(case)
    actor.require("tracking.confirm")
    return case, actor


def customer_actor(case: RefundCase) -> Actor:
    return Actor(id=f"customer:{case.id}", role=Role.CUSTOMER, merchant_id=case.merchant_id, name="customer")


def page(deps: Deps, token: str, language: str) -> dict[str, Any]:
    with deps.uow(readonly=True) as uow:
        case = _case(deps, uow, token)
        merchant = uow.merchants.get_merchant(case.merchant_id)
        sale = uow.sales.get_sale(case.merchant_id, case.sale_id)
        fu = uow.follow_ups.followup(case.merchant_id, case.id)
        contact = uow.contacts.contact(case.id)
    return {
        "refund_no": case.refund_no,
        "status": case.status.value,
        "status_text": status_name(case.status.value, language),
        "amount": format_yuan(case.amount_fen, case.currency),
        "route": route_name(case.channel, case.method, language),
        "expected_arrival": case.expected_arrival.isoformat() if case.expected_arrival else "",
        "merchant_name": merchant["name"] if merchant else "",
        "merchant_phone": merchant["contact_phone"] if merchant else "",
        "payer": sale.payer_masked if sale else "",
        "received": bool(fu and fu["status"] == "closed"),
        "can_confirm": case.status.value == "succeeded" and not (fu and fu["status"] == "closed"),
        "opted_out": bool(contact and contact["opted_out"]),
    }


def confirm(deps: Deps, token: str) -> bool:
    """The customer says the money arrived: the follow-up closes. False if it was already closed."""
    now = deps.clock.now()
    with deps.uow() as uow:
        case, actor = _answering_customer(deps, uow, token)
        done = follow_up.confirm_receipt(uow, case, actor, "customer", "", now, deps.local_date(now))
        uow.commit()
    return done


def stop_messages(deps: Deps, token: str) -> None:
    """The customer asks for no more messages: this case, and every case of the same phone number."""
    now = deps.clock.now()
    with deps.uow() as uow:
        case, actor = _answering_customer(deps, uow, token)
        apply_opt_out(uow, actor, case, "customer", "tracking_page", now)
        uow.commit()
