"""Second review before money moves: a high alert on a refund that has not reached its channel holds it. The
worker's claim reads the hold in the transaction that hands the case over (service/execution.py), and placing a
hold moves the case's version, so a claim that read the case just before loses its compare-and-set: no race
lets the money go. A second person — not the requester, not an approver — releases the refund or stops it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from posrefund.domain.errors import Conflict, Forbidden, Invalid
from posrefund.domain.pii import refuse_card_data
from posrefund.domain.refund import MAX_REASON_TEXT, RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.ports import UnitOfWork
from posrefund.ports.risk import HoldRow
from posrefund.service.deps import Deps
from posrefund.service.records import record, record_on_case
from posrefund.service.refunds import change_case, get_case

HELD, RELEASED, REJECTED = "held", "released", "rejected"


def hold_cases(
    uow: UnitOfWork, actor: Actor, merchant_id: str, alert_id: str, case_ids: Iterable[str], now: datetime
) -> int:
    """Hold the named cases that have not reached their channel yet, set-based (cases already final or with
    their channel are skipped by the statement itself); each newly held case is an audit event on it."""
    held = uow.risk_holds.hold_many(merchant_id, list(case_ids), alert_id, now)
    for case_id, status in held:
        record(
            uow, actor, merchant_id, "refund.held", now, case_id=case_id, before=status, after=status, alert_id=alert_id
        )
    return len(held)


def hold_of(deps: Deps, actor: Actor, case_id: str) -> HoldRow | None:
    """The case's hold, for whoever may read the case."""
    case = get_case(deps, actor, case_id).case
    with deps.uow(readonly=True) as uow:
        return uow.risk_holds.get_hold(case.merchant_id, case.id)


def held_cases(deps: Deps, actor: Actor, limit: int = 100) -> list[HoldRow]:
    """The refunds waiting for a second review, oldest first."""
    actor.require("refund.release_hold")
    with deps.uow(readonly=True) as uow:
        return uow.risk_holds.held(actor.merchant_id or "", limit)


def decide_hold(deps: Deps, actor: Actor, case_id: str, release: bool, reason: str) -> RefundCase:
    """Release the held refund to the worker, or stop it (cancelled once approved, rejected before); both need a
    person other than its requester and its approvers, and both are audited on the case."""
    actor.require("refund.release_hold")
    reason = reason.strip()
    refuse_card_data(reason, "reason")
    if len(reason) > MAX_REASON_TEXT:
        raise Invalid("review.reason_too_long", max=MAX_REASON_TEXT)
    if not release and not reason:
        raise Invalid("review.reason_required")

    def step(case: RefundCase, uow: UnitOfWork, now: datetime) -> None:
        hold = uow.risk_holds.get_hold(case.merchant_id, case.id, for_update=True)
        if hold is None or hold["status"] != HELD:
            raise Conflict("risk.not_held")
        if actor.id == case.requested_by or actor.id in case.approved_by:
            raise Forbidden("risk.hold_same_person")
        if release and case.status is not RefundStatus.APPROVED:
            raise Conflict("risk.hold_awaits_approval")  # the second look comes after the first
        uow.risk_holds.decide(case.id, RELEASED if release else REJECTED, actor.id, now, reason)
        if release:
            record_on_case(uow, actor, case, "refund.hold_released", now, reason, alert_id=hold["alert_id"])
        else:
            case.refuse_after_hold(actor, reason, now)

    return change_case(deps, actor, case_id, step)
