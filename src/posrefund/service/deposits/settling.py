"""A deposit's return is over — ``settling → settled`` — only when every part its accepted proposal gives back
has been paid: the original-route refunds succeeded (the sale's ``refunded_fen`` reaches the allowance and
nothing is still on its way) and the penalty of a double return (定金罚则) is confirmed paid by its transfer.

The check runs inside the transaction that pays the last part — a refund becoming ``succeeded`` (the worker's
channel answer, a callback, a person's resolution: all pass ``refunds.settle_reservation``), a penalty transfer
confirmed, or an acceptance that gives nothing back — so the deposit is never settled before the money moved
and never left settling once it has. This module imports no other part of the deposits service: the refund
core calls it, and the deposits service calls the refund core."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from posrefund.domain.roles import SYSTEM_ACTOR, Actor
from posrefund.ports import UnitOfWork
from posrefund.ports.deposits import DepositRow
from posrefund.service.records import record

SETTLING = "settling"
SETTLED = "settled"
PAID = "paid"
AWAITING = "awaiting_transfer"


def _penalty_owed(uow: UnitOfWork, deposit: DepositRow) -> int:
    """The penalty the latest accepted proposal gives in all (0 when none was accepted, or none is owed)."""
    accepted = [p for p in uow.deposits.proposals_of(deposit["id"]) if p["status"] == "accepted"]
    if not accepted:
        return 0
    latest = max(accepted, key=lambda p: (p["decided_at"] or p["created_at"], p["id"]))
    return int(latest["figures"].get("penalty_total_fen", 0))


def outstanding(uow: UnitOfWork, deposit: DepositRow) -> tuple[int, int]:
    """(fen still to go back by the original route, fen of penalty still to be paid) for a settling deposit."""
    sale = uow.sales.get_sale(deposit["merchant_id"], deposit["sale_id"])
    assert sale is not None
    allowed = int(deposit["allowed_back_fen"] or 0)
    back_left = max(0, allowed - sale.refunded_fen) + sale.reserved_fen
    payouts = uow.deposits.payouts_of(deposit["id"])
    paid = sum(int(p["amount_fen"]) for p in payouts if p["status"] == PAID)
    waiting = sum(int(p["amount_fen"]) for p in payouts if p["status"] == AWAITING)
    return back_left, max(0, _penalty_owed(uow, deposit) - paid) + waiting


def settle_if_paid(uow: UnitOfWork, sale_id: str, now: datetime, actor: Actor = SYSTEM_ACTOR) -> bool:
    """Move the settling deposit of ``sale_id`` to settled, audited, when nothing of its return is left to pay;
    True if it moved. Runs in the caller's transaction. The deposit's row is locked before anything is read:
    a refund succeeding and the penalty confirmed at the same moment each wait for the other, so the second
    sees the first's part paid instead of both seeing the other's part still open."""
    deposit = uow.deposits.deposit_of_sale(sale_id, for_update=True)
    if deposit is None or deposit["status"] != SETTLING:
        return False
    back_left, penalty_left = outstanding(uow, deposit)
    if back_left or penalty_left:
        return False
    deposit.update({"status": SETTLED, "updated_at": now})
    if not uow.deposits.save_deposit(deposit):
        return False
    sale = uow.sales.get_sale(deposit["merchant_id"], deposit["sale_id"])
    data: dict[str, Any] = {"case_id": deposit["id"], "before": SETTLING, "after": SETTLED}
    data.update(refunded_fen=sale.refunded_fen if sale else 0, penalty_paid_fen=_penalty_owed(uow, deposit))
    record(uow, actor, deposit["merchant_id"], "deposit.settled", now, **data)
    return True
