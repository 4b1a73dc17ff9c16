"""The penalty of a double return (定金罚则), paid by bank transfer from the merchant's own account: confirmed paid
with the transfer's reference by a second person, or cancelled with a reason before it is paid (a proposal
accepted in error) — after which a new proposal counts it as not paid."""

from __future__ import annotations

from typing import Any

from posrefund.domain.errors import Conflict, Forbidden, NotFound
from posrefund.domain.free_text import free_text
from posrefund.domain.roles import Actor
from posrefund.ports.deposits import PayoutRow
from posrefund.service.deposits import penalty_notice, settling
from posrefund.service.deposits.proposals import AWAITING
from posrefund.service.deps import Deps
from posrefund.service.records import record

PAID = "paid"
CANCELLED = "cancelled"
MAX_REFERENCE = 64
MAX_REASON = 200
BAD_FIELD = "deposit.invalid_field"


def _close(
    deps: Deps, actor: Actor, payout_id: str, after: str, action: str, said: dict[str, str], account: str = ""
) -> PayoutRow:
    """An awaiting payout to ``after``, decided by someone other than who accepted it, audited with ``said``;
    once paid, the customer is told and the deposit perhaps settled, in the same transaction."""
    now = deps.clock.now()
    with deps.uow() as uow:
        payout = uow.deposits.get_payout(actor.merchant_id or "", payout_id)
        if payout is None:
            raise NotFound("deposit.payout_not_found")
        if payout["status"] != AWAITING:
            raise Conflict("deposit.payout_not_awaiting", status=payout["status"])
        if actor.id == payout["created_by"]:
            raise Forbidden("deposit.second_person_required")
        change: dict[str, Any] = {"status": after, "confirmed_by": actor.id, "confirmed_at": now, **said}
        payout.update(change)  # type: ignore[typeddict-item]  # the keys are the row's own
        if not uow.deposits.save_payout(payout):
            raise Conflict("deposit.changed")
        record(
            uow,
            actor,
            payout["merchant_id"],
            action,
            now,
            case_id=payout["deposit_id"],
            before=AWAITING,
            after=after,
            payout_id=payout["id"],
            amount_fen=payout["amount_fen"],
            **said,
            **({"account": account} if account else {}),
        )
        deposit = uow.deposits.get_deposit(payout["merchant_id"], payout["deposit_id"])
        if after == PAID and deposit is not None:
            penalty_notice.tell_customer(deps, uow, payout, account, now)
            settling.settle_if_paid(uow, deposit["sale_id"], now, actor)
        uow.commit()
    return payout


def confirm_payout(deps: Deps, actor: Actor, payout_id: str, reference: str, account_last4: str = "") -> PayoutRow:
    """The penalty's bank transfer confirmed paid, with its reference (and the last four of the account it went
    to, for the customer's notice), by someone other than who accepted it."""
    actor.require("deposit.confirm_payout")
    reference = free_text(
        reference, "reference", limit=MAX_REFERENCE, missing="deposit.reference_required", too_long=BAD_FIELD
    )
    account = penalty_notice.masked_account(account_last4)
    return _close(deps, actor, payout_id, PAID, "deposit.penalty_paid", {"reference": reference}, account)


def cancel_payout(deps: Deps, actor: Actor, payout_id: str, reason: str) -> PayoutRow:
    """A penalty not yet paid withdrawn with a reason, by a supervisor other than who accepted it."""
    actor.require("deposit.decide")
    reason = free_text(reason, "reason", limit=MAX_REASON, missing="deposit.cancel_reason_required", too_long=BAD_FIELD)
    return _close(deps, actor, payout_id, CANCELLED, "deposit.penalty_cancelled", {"cancel_reason": reason})
