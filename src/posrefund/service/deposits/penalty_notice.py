"""The customer hears of the penalty transfer of a double return (定金罚则) once it is confirmed paid: the same
outbox and gateways as the refund's own messages, addressed through the refund the payout is linked to (whose
customer gave the phone, WeChat or email), with the penalty's amount in yuan, the time it was confirmed and
the account it went to as its last four only. The message source is the payout's own confirmation step, so a
repeated confirmation (or a retried transaction) never queues it twice."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from posrefund.domain.errors import Invalid
from posrefund.domain.money import format_yuan
from posrefund.domain.notification import NotifyEvent
from posrefund.domain.pii import refuse_card_data
from posrefund.ports import UnitOfWork
from posrefund.ports.deposits import PayoutRow
from posrefund.service.deps import Deps
from posrefund.service.notifications import sending

PEOPLES_TIME = ZoneInfo("Asia/Shanghai")


def masked_account(account_last4: str) -> str:
    """The receiving account as people may see it: ``****1234``, or nothing when it was not given. A whole
    card or account number is refused, never kept."""
    text = account_last4.strip()
    refuse_card_data(text, "account_last4")
    if text and not (len(text) == 4 and text.isascii() and text.isdigit()):
        raise Invalid("deposit.invalid_field", field="account_last4")
    return f"****{text}" if text else ""


def _linked_refund(uow: UnitOfWork, payout: PayoutRow) -> str | None:
    """The refund the payout is linked to, or (a penalty owed again after one was cancelled, accepted with
    nothing more to give back) the latest refund an earlier proposal of the same deposit started."""
    if payout["refund_id"]:
        return payout["refund_id"]
    linked = [p["refund_id"] for p in uow.deposits.proposals_of(payout["deposit_id"]) if p["refund_id"]]
    return linked[-1] if linked else None


def tell_customer(deps: Deps, uow: UnitOfWork, payout: PayoutRow, account: str, now: datetime) -> int:
    """Queue the notice in the caller's transaction; how many messages were queued (0: no refund to reach
    the customer through, no channel they can be reached on, or already queued)."""
    case_id = _linked_refund(uow, payout)
    case = uow.refunds.get_case(payout["merchant_id"], case_id) if case_id else None
    if case is None:
        return 0
    params = {
        "amount": format_yuan(int(payout["amount_fen"]), payout["currency"]),
        "paid_at": now.astimezone(PEOPLES_TIME).strftime("%Y-%m-%d %H:%M"),
        "account": account,
        "payout_id": payout["id"],
    }
    return sending.schedule(deps, uow, case, NotifyEvent.PENALTY_PAID, f"dpo-{payout['id']}-paid", now, params)
