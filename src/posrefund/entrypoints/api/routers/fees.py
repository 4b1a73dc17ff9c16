"""Fee contracts (费率合同), the fee-refund check and one-off charges (the 299-yuan activation fee): set a period of
rates, record the merchant's consent, recompute the fees charged over a period into a case with its statement,
approve it and record the transfer; record a one-off charge and decide a request to have it back."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from posrefund.domain.fee_charges import ChargeTerms, OneOffCharge, PayoutCase
from posrefund.domain.fees import FeePeriod, FeeRule, StatementLine, end_of, percent
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.schemas_fees import (
    ChargeIn,
    ChargeList,
    ChargeOut,
    ChargeRefundIn,
    CheckIn,
    CheckOut,
    ConsentIn,
    DecisionOut,
    PayIn,
    PayoutList,
    PayoutOut,
    PayoutRejectIn,
    PayoutWithStatement,
    PeriodIn,
    PeriodList,
    PeriodOut,
)
from posrefund.entrypoints.api.views import iso
from posrefund.service import fees

router = APIRouter(prefix="/v1/fees/{merchant_id}", tags=["fees"])
ON_MERCHANT = (*SIGNED_IN, 404)
STEP = (*ON_MERCHANT, *WITH_BODY, 409)


def rule_view(r: FeeRule) -> dict[str, Any]:
    return {**dataclasses.asdict(r), "rate_text": percent(r.rate_ppm), "description": r.describe()}


def period_view(p: FeePeriod, all_periods: list[FeePeriod] | None = None) -> dict[str, Any]:
    end = end_of(all_periods or [p], p)
    return {
        "id": p.id,
        "effective_from": p.effective_from.isoformat(),
        "effective_to": p.effective_to.isoformat() if p.effective_to else None,
        "ends_on": end.isoformat() if end else None,
        "consented_on": p.consented_on.isoformat() if p.consented_on else None,
        "consent_ref": p.consent_ref,
        "rules": [rule_view(r) for r in p.rules],
    }


def payout_view(c: PayoutCase) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "status": c.status.value,
        "amount_fen": c.amount_fen,
        "explanation": c.explanation,
        "charge_id": c.charge_id or None,
        "period_from": c.period_from.isoformat() if c.period_from else None,
        "period_to": c.period_to.isoformat() if c.period_to else None,
        "opened_by": c.opened_by,
        "opened_at": iso(c.opened_at),
        "approved_by": c.approved_by or None,
        "paid_by": c.paid_by or None,
        "transfer_ref": c.transfer_ref or None,
        "reason": c.reason or None,
    }


def statement_view(lines: list[StatementLine]) -> list[dict[str, Any]]:
    return [s.as_row() for s in lines]


def charge_view(c: OneOffCharge) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "amount_fen": c.amount_fen,
        "charged_on": c.charged_on.isoformat(),
        "activated_on": c.activated_on.isoformat(),
        "terms": {**dataclasses.asdict(c.terms), "channels": list(c.terms.channels)},
        "description": c.description,
    }


@router.get(
    "/periods", summary="The merchant's fee contract", **answers(PeriodList, *ON_MERCHANT, permission="fees.read")
)
async def list_periods(merchant_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    found = list(await c.run(fees.periods, c.deps, actor, merchant_id))
    return {"items": [period_view(p, found) for p in found]}


@router.post(
    "/periods",
    summary="Add a period of fee rates (a change never rewrites an earlier one)",
    **answers(PeriodOut, *STEP, status=201, permission="fees.contract"),
)
async def add_period(merchant_id: str, body: PeriodIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rules = tuple(FeeRule(**r.model_dump()) for r in body.rules)
    period = FeePeriod(body.effective_from, rules, body.effective_to, body.consented_on, body.consent_ref)
    return period_view(await c.run(fees.add_period, c.deps, actor, merchant_id, period))


@router.post(
    "/periods/{period_id}/consent",
    summary="Record the merchant's consent to a period",
    **answers(PeriodOut, *STEP, permission="fees.contract"),
)
async def consent(merchant_id: str, period_id: str, body: ConsentIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    period = await c.run(fees.record_consent, c.deps, actor, merchant_id, period_id, body.consented_on, body.reference)
    return period_view(period)


@router.post(
    "/checks",
    summary="Recompute the fees charged over a period; open a fee-refund case for what was overcharged",
    **answers(CheckOut, *STEP, status=201, again="nothing overcharged: no case", permission="fees.check"),
)
async def check(merchant_id: str, body: CheckIn, actor: CurrentActor, c: Ctx) -> Any:
    case, statement = await c.run(fees.check_overcharges, c.deps, actor, merchant_id, body.date_from, body.date_to)
    answer = {"case": payout_view(case) if case else None, "statement": statement_view(statement)}
    return answer if case else JSONResponse(answer, status_code=200)


@router.get(
    "/payouts",
    summary="Fee-refund and charge-refund cases",
    **answers(PayoutList, *ON_MERCHANT, permission="fees.read"),
)
async def list_payouts(
    merchant_id: str, actor: CurrentActor, c: Ctx, status: str = Query(default="", max_length=16)
) -> dict[str, Any]:
    return {"items": [payout_view(p) for p in await c.run(fees.payouts, c.deps, actor, merchant_id, status)]}


@router.get(
    "/payouts/{payout_id}",
    summary="A case with its line-by-line statement",
    **answers(PayoutWithStatement, *ON_MERCHANT, permission="fees.read"),
)
async def get_payout(merchant_id: str, payout_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    case, lines = await c.run(fees.payout, c.deps, actor, merchant_id, payout_id)
    return {"case": payout_view(case), "statement": statement_view(lines)}


@router.post(
    "/payouts/{payout_id}/approve",
    summary="Approve a case (never the one who opened it)",
    **answers(PayoutOut, *ON_MERCHANT, 409, permission="fees.approve"),
)
async def approve(merchant_id: str, payout_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return payout_view(await c.run(fees.approve, c.deps, actor, merchant_id, payout_id))


@router.post(
    "/payouts/{payout_id}/reject",
    summary="Reject a case, with a reason",
    **answers(PayoutOut, *STEP, permission="fees.approve"),
)
async def reject(merchant_id: str, payout_id: str, body: PayoutRejectIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return payout_view(await c.run(fees.reject, c.deps, actor, merchant_id, payout_id, body.reason))


@router.post(
    "/payouts/{payout_id}/pay",
    summary="Record the transfer to the merchant's settlement account (not the approver)",
    **answers(PayoutOut, *STEP, permission="fees.pay"),
)
async def pay(merchant_id: str, payout_id: str, body: PayIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return payout_view(await c.run(fees.pay, c.deps, actor, merchant_id, payout_id, body.transfer_ref))


@router.get("/charges", summary="One-off charges", **answers(ChargeList, *ON_MERCHANT, permission="fees.read"))
async def list_charges(merchant_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": [charge_view(x) for x in await c.run(fees.charges, c.deps, actor, merchant_id)]}


@router.post(
    "/charges",
    summary="Record a one-off charge and its refund terms",
    **answers(ChargeOut, *STEP, status=201, permission="fees.charge"),
)
async def add_charge(merchant_id: str, body: ChargeIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    t = body.terms
    terms = ChargeTerms(t.kind, t.volume_fen, t.within_days, tuple(t.channels))
    charge = OneOffCharge(
        "", merchant_id, body.kind, body.amount_fen, body.charged_on, body.activated_on or body.charged_on, terms,
        body.description,
    )  # fmt: skip
    return charge_view(await c.run(fees.record_charge, c.deps, actor, charge))


@router.post(
    "/charges/{charge_id}/refund-request",
    summary="Ask for a one-off charge back: decided on its terms, with the computation",
    **answers(DecisionOut, *STEP, status=201, permission="fees.charge_refund"),
)
async def refund_request(
    merchant_id: str, charge_id: str, body: ChargeRefundIn, actor: CurrentActor, c: Ctx
) -> dict[str, Any]:
    decision, case = await c.run(
        fees.request_charge_refund, c.deps, actor, merchant_id, charge_id, body.device_returned_on
    )
    window_end: date | None = decision.window_end
    return {
        "refundable": decision.refundable,
        "amount_fen": decision.amount_fen,
        "code": decision.code,
        "explanation": decision.explanation,
        "volume_fen": decision.volume_fen,
        "window_end": window_end.isoformat() if window_end else None,
        "case": payout_view(case),
    }
