"""Money owed back to a merchant, as a payout case: the fee-refund check (fees charged above the contract over a
period, recomputed line by line from the imported settlement lines) and a one-off charge given back. Finance
approves (never who opened it) and a second person records the bank transfer to the merchant's settlement account
— the rule the core applies to a refund paid away from the original route (domain/refund.py ``reroute`` and
``confirm_offline_payout``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from posrefund.domain.errors import Conflict, Invalid, NotFound
from posrefund.domain.fee_charges import PayoutCase, PayoutKind, PayoutStatus
from posrefund.domain.fees import StatementLine, overcharge_statement, yuan
from posrefund.domain.reconciliation import check_range
from posrefund.domain.roles import Actor
from posrefund.ports import UnitOfWork
from posrefund.service.admin import reachable_merchant
from posrefund.service.deps import Deps
from posrefund.service.fees.notices import STEP_OF_ACTION, tell_payout
from posrefund.service.records import record

MAX_CHECK_DAYS = 366


def check_overcharges(
    deps: Deps, actor: Actor, merchant_id: str, date_from: date, date_to: date
) -> tuple[PayoutCase | None, list[StatementLine]]:
    """Recompute every fee charged on the merchant's settlement lines of the dates against the contract in force
    each day; open a case for the lines charged above it (None when there are none). A line already on a live
    case is not claimed twice."""
    actor.require("fees.check")
    if date_to < date_from:
        check_range(date_from, date_to)
    if (date_to - date_from).days >= MAX_CHECK_DAYS:
        raise Invalid("fees.range_too_long", max_days=MAX_CHECK_DAYS)
    now = deps.clock.now()
    with deps.uow() as uow:
        reachable_merchant(uow, actor, merchant_id)
        contract = uow.fee_contracts.periods(merchant_id)
        if not contract:
            raise Conflict("fees.no_contract")
        statement = overcharge_statement(contract, uow.fee_contracts.charged_lines(merchant_id, date_from, date_to))
        if not statement:
            record(uow, actor, merchant_id, "fees.check_clean", now, date_from=str(date_from), date_to=str(date_to))
            uow.commit()
            return None, []
        total = sum(s.difference_fen for s in statement)
        text = f"{date_from} 至 {date_to} 共 {len(statement)} 笔手续费高于合同约定，合计多收 {yuan(total)} 元。"
        case = PayoutCase(
            deps.ids.new_id("fr"), merchant_id, PayoutKind.OVERCHARGE.value, PayoutStatus.OPEN, total, actor.id, now,
            text, period_from=date_from, period_to=date_to,
        )  # fmt: skip
        uow.fee_contracts.add_payout(case, statement)
        record(
            uow, actor, merchant_id, "fees.overcharge_case_opened", now,
            payout_id=case.id, amount_fen=total, lines=len(statement), date_from=str(date_from), date_to=str(date_to),
        )  # fmt: skip
        tell_payout(deps, uow, case, "opened", now)
        uow.commit()
    return case, statement


def payout(deps: Deps, actor: Actor, merchant_id: str, payout_id: str) -> tuple[PayoutCase, list[StatementLine]]:
    actor.require("fees.read")
    with deps.uow(readonly=True) as uow:
        reachable_merchant(uow, actor, merchant_id)
        case = _case(uow, merchant_id, payout_id)
        return case, uow.fee_contracts.payout_lines(payout_id)


def payouts(deps: Deps, actor: Actor, merchant_id: str, status: str = "") -> list[PayoutCase]:
    actor.require("fees.read")
    if status and status not in PayoutStatus.__members__.values():
        raise Invalid("fees.invalid_status", status=status)
    with deps.uow(readonly=True) as uow:
        reachable_merchant(uow, actor, merchant_id)
        return uow.fee_contracts.payouts(merchant_id, status)


def approve(deps: Deps, actor: Actor, merchant_id: str, payout_id: str) -> PayoutCase:
    actor.require("fees.approve")
    return _decide(deps, actor, merchant_id, payout_id, lambda c: c.approve(actor.id))


def reject(deps: Deps, actor: Actor, merchant_id: str, payout_id: str, reason: str) -> PayoutCase:
    actor.require("fees.approve")
    return _decide(deps, actor, merchant_id, payout_id, lambda c: c.reject(actor.id, reason))


def pay(deps: Deps, actor: Actor, merchant_id: str, payout_id: str, transfer_ref: str) -> PayoutCase:
    """The bank transfer to the merchant's settlement account was made: its reference is recorded."""
    actor.require("fees.pay")
    return _decide(deps, actor, merchant_id, payout_id, lambda c: c.pay(actor.id, transfer_ref))


def _decide(
    deps: Deps, actor: Actor, merchant_id: str, payout_id: str, step: Callable[[PayoutCase], None]
) -> PayoutCase:
    now = deps.clock.now()
    with deps.uow() as uow:
        reachable_merchant(uow, actor, merchant_id)
        case = _case(uow, merchant_id, payout_id)
        step(case)
        if not uow.fee_contracts.save_payout(case, now):
            raise Conflict("fees.case_changed")
        for action, data in case.events:
            record(uow, actor, merchant_id, action, now, payout_id=case.id, kind=case.kind, **data)
            if action in STEP_OF_ACTION:
                tell_payout(deps, uow, case, STEP_OF_ACTION[action], now)
        uow.commit()
    case.events.clear()
    case.version += 1
    return case


def _case(uow: UnitOfWork, merchant_id: str, payout_id: str) -> PayoutCase:
    case = uow.fee_contracts.payout(merchant_id, payout_id)
    if case is None:
        raise NotFound("fees.case_not_found")
    return case
