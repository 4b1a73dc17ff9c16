"""One-off charges (the 299-yuan activation fee, a service charge, a device charge) with the terms on which they
come back, and the merchant's request to have one back: decided against the merchant's own settlement history,
with the computation in Chinese. A refundable request opens a payout case for finance; a refused one is kept,
with why."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from posrefund.domain.errors import Conflict, NotFound
from posrefund.domain.fee_charges import (
    ChargeDecision,
    OneOffCharge,
    PayoutCase,
    PayoutKind,
    PayoutStatus,
    decide_charge_refund,
)
from posrefund.domain.roles import Actor
from posrefund.service.admin import reachable_merchant
from posrefund.service.deps import Deps
from posrefund.service.fees.notices import tell_payout
from posrefund.service.records import record


def record_charge(deps: Deps, actor: Actor, charge: OneOffCharge) -> OneOffCharge:
    actor.require("fees.charge")
    now = deps.clock.now()
    with deps.uow() as uow:
        reachable_merchant(uow, actor, charge.merchant_id)
        charge = replace(charge, id=deps.ids.new_id("oc"))
        uow.fee_contracts.add_charge(charge, actor.id, now)
        terms = charge.terms
        record(
            uow, actor, charge.merchant_id, "fees.charge_recorded", now,
            charge_id=charge.id, kind=charge.kind, amount_fen=charge.amount_fen, charged_on=str(charge.charged_on),
            terms=terms.kind, volume_fen=terms.volume_fen, within_days=terms.within_days, channels=list(terms.channels),
        )  # fmt: skip
        uow.commit()
    return charge


def charges(deps: Deps, actor: Actor, merchant_id: str) -> list[OneOffCharge]:
    actor.require("fees.read")
    with deps.uow(readonly=True) as uow:
        reachable_merchant(uow, actor, merchant_id)
        return uow.fee_contracts.charges(merchant_id)


def request_charge_refund(
    deps: Deps, actor: Actor, merchant_id: str, charge_id: str, device_returned_on: date | None = None
) -> tuple[ChargeDecision, PayoutCase]:
    """Decide the request on the terms and the history; the decision is kept either way (a refused request is a
    case in ``refused`` with the computation that refused it)."""
    actor.require("fees.charge_refund")
    now = deps.clock.now()
    with deps.uow() as uow:
        reachable_merchant(uow, actor, merchant_id)
        charge = uow.fee_contracts.charge(merchant_id, charge_id)
        if charge is None:
            raise NotFound("fees.charge_not_found")
        if uow.fee_contracts.live_charge_payout(merchant_id, charge_id) is not None:
            raise Conflict("fees.charge_refund_pending")
        end = charge.activated_on + timedelta(days=max(charge.terms.within_days, 1) - 1)
        history = uow.fee_contracts.volume_lines(merchant_id, charge.activated_on, end)
        decision = decide_charge_refund(charge, history, deps.local_date(now), device_returned_on)
        status = PayoutStatus.OPEN if decision.refundable else PayoutStatus.REFUSED
        case = PayoutCase(
            deps.ids.new_id("fr"), merchant_id, PayoutKind.CHARGE.value, status, decision.amount_fen, actor.id, now,
            decision.explanation, charge_id=charge_id, reason="" if decision.refundable else decision.code,
        )  # fmt: skip
        uow.fee_contracts.add_payout(case, [])
        record(
            uow, actor, merchant_id, "fees.charge_refund_decided", now,
            payout_id=case.id, charge_id=charge_id, refundable=decision.refundable, code=decision.code,
            amount_fen=decision.amount_fen, volume_fen=decision.volume_fen,
        )  # fmt: skip
        tell_payout(deps, uow, case, "opened" if decision.refundable else "rejected", now)
        uow.commit()
    return decision, case
