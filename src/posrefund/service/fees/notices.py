"""The merchant told of its fee refund's steps — opened, decided (approved, rejected or refused), paid to its
settlement account — by message to its mobile and email, once per case and step (``merchant_messages``)."""

from __future__ import annotations

from datetime import datetime

from posrefund.domain.fee_charges import PayoutCase, PayoutStatus
from posrefund.domain.merchant_notice import PAYOUT_KIND_NAMES, name_in
from posrefund.domain.money import format_yuan
from posrefund.domain.notification import NotifyEvent
from posrefund.ports import UnitOfWork
from posrefund.service.deps import Deps
from posrefund.service.notifications import merchant_messages

STEP_EVENTS: dict[str, NotifyEvent] = {
    "opened": NotifyEvent.FEE_CASE_OPENED,
    "approved": NotifyEvent.FEE_CASE_APPROVED,
    "rejected": NotifyEvent.FEE_CASE_REJECTED,
    "paid": NotifyEvent.FEE_CASE_PAID,
}
# The audit action of a payout's step → the step the merchant hears about.
STEP_OF_ACTION: dict[str, str] = {
    "fees.case_approved": "approved",
    "fees.case_rejected": "rejected",
    "fees.case_paid": "paid",
}


def tell_payout(deps: Deps, uow: UnitOfWork, case: PayoutCase, step: str, now: datetime) -> None:
    """A refused request tells the computation that refused it; a rejected case the approver's reason."""
    language = merchant_messages.language_of(uow, case.merchant_id)
    values = {
        "case_no": case.id,
        "case_kind": name_in(PAYOUT_KIND_NAMES, case.kind, language),
        "amount": format_yuan(case.amount_fen),
        "at": merchant_messages.at_text(now),
        "reason": case.explanation if case.status is PayoutStatus.REFUSED else case.reason,
        "transfer_ref": case.transfer_ref,
    }
    event = STEP_EVENTS[step]
    merchant_messages.tell_merchant(deps, uow, case.merchant_id, event, f"{case.id}-{step}", now, values)
