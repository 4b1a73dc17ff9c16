"""Fee contracts per merchant: a change of rates is a new period (history is never rewritten), and the merchant's
consent to a period is recorded once, with its date and reference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from posrefund.domain.errors import Conflict, NotFound
from posrefund.domain.fees import FeePeriod, FeeRule, check_new_period
from posrefund.domain.roles import Actor
from posrefund.service.admin import reachable_merchant
from posrefund.service.deps import Deps
from posrefund.service.records import record


def add_period(deps: Deps, actor: Actor, merchant_id: str, period: FeePeriod) -> FeePeriod:
    """A new period of the merchant's contract, from its first day on; the open period before it ends the day
    before. Overlapping an existing period is refused and nothing is written."""
    actor.require("fees.contract")
    now = deps.clock.now()
    with deps.uow() as uow:
        reachable_merchant(uow, actor, merchant_id)
        check_new_period(uow.fee_contracts.periods(merchant_id), period)
        period = replace(period, id=deps.ids.new_id("fp"))
        uow.fee_contracts.add_period(merchant_id, period, actor.id, now)
        record(
            uow,
            actor,
            merchant_id,
            "fees.period_added",
            now,
            period_id=period.id,
            effective_from=period.effective_from.isoformat(),
            effective_to=period.effective_to.isoformat() if period.effective_to else None,
            consented_on=period.consented_on.isoformat() if period.consented_on else None,
            consent_ref=period.consent_ref,
            rules=[rule_data(r) for r in period.rules],
        )
        uow.commit()
    return period


def record_consent(
    deps: Deps, actor: Actor, merchant_id: str, period_id: str, consented_on: date, ref: str
) -> FeePeriod:
    """The merchant agreed to a period (signed change notice, 变更确认书): from that day its rates bind."""
    actor.require("fees.contract")
    now = deps.clock.now()
    with deps.uow() as uow:
        reachable_merchant(uow, actor, merchant_id)
        found = [p for p in uow.fee_contracts.periods(merchant_id) if p.id == period_id]
        if not found:
            raise NotFound("fees.period_not_found")
        if not uow.fee_contracts.record_consent(merchant_id, period_id, consented_on, ref.strip()):
            raise Conflict("fees.consent_already_recorded")
        record(
            uow,
            actor,
            merchant_id,
            "fees.consent_recorded",
            now,
            period_id=period_id,
            consented_on=consented_on.isoformat(),
            consent_ref=ref.strip(),
        )
        uow.commit()
    return replace(found[0], consented_on=consented_on, consent_ref=ref.strip())


def periods(deps: Deps, actor: Actor, merchant_id: str) -> Sequence[FeePeriod]:
    actor.require("fees.read")
    with deps.uow(readonly=True) as uow:
        reachable_merchant(uow, actor, merchant_id)
        return uow.fee_contracts.periods(merchant_id)


def rule_data(rule: FeeRule) -> dict[str, object]:
    return {
        "channel": rule.channel,
        "card_type": rule.card_type,
        "rate_ppm": rule.rate_ppm,
        "band_from_fen": rule.band_from_fen,
        "cap_fen": rule.cap_fen,
        "min_fen": rule.min_fen,
        "returned_on_refund": rule.returned_on_refund,
    }
