"""Deposits (定金, 订金, 押金): the merchant's terms templates, deposits recorded with their terms, refund
proposals computed by the terms, a supervisor's override and acceptance (the refund by the original route and
the penalty payout of a double return), the penalty's transfer confirmed, and deposits held beyond their terms."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field, StrictBool, StrictInt

from posrefund.domain.errors import Invalid
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.responses_deposits import (
    DepositDetail,
    DepositList,
    DepositRecorded,
    DepositTerms,
    DepositTermsList,
    OverdueList,
    Payout,
    ProposalAccepted,
    ProposalOut,
)
from posrefund.entrypoints.api.schemas import Body, CustomerIn, Fen, SaleIn
from posrefund.entrypoints.api.views import plain, sale_view
from posrefund.entrypoints.api.views_deposits import (
    accepted_view,
    deposit_view,
    detail_view,
    overdue_view,
    proposal_view,
    terms_view,
)
from posrefund.service import sales
from posrefund.service.deposits import holding, payouts, proposals, terms
from posrefund.service.refunds import CustomerInput
from posrefund.service.sales import SaleInput

router = APIRouter(prefix="/v1/deposits", tags=["deposits"])
STEP = (*SIGNED_IN, *WITH_BODY, 404, 409)
Id = Annotated[str, Field(min_length=1, max_length=40)]


class TermsIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    kind: Annotated[
        str, Field(min_length=1, max_length=16, description="`deposit` 定金, `advance` 订金, `security` 押金")
    ]
    hold_days: Annotated[StrictInt, Field(ge=1, le=3650)]
    costs_deductible: StrictBool = False
    max_deduction_bp: Annotated[StrictInt, Field(ge=0, le=10_000)] = 10_000
    text: Annotated[str, Field(max_length=2000)] = ""


class DepositIn(Body):
    """Either the deposit payment already recorded (``sale_id``) or the payment itself (``sale``: its kind is
    taken from the terms)."""

    terms_id: Id
    contract_value_fen: Fen
    held_until: date | None = None
    sale_id: Annotated[str | None, Field(max_length=40)] = None
    sale: SaleIn | None = None


class DeductionIn(Body):
    amount_fen: Annotated[StrictInt, Field(gt=0, le=10**13)]
    reason: Annotated[str, Field(max_length=200)]
    evidence_id: Annotated[str, Field(max_length=40, description="an uploaded piece of evidence (/v1/evidence)")]


class ProposeIn(Body):
    ending: Annotated[str, Field(min_length=1, max_length=24)]
    deductions: Annotated[list[DeductionIn], Field(default_factory=list, max_length=50)]


class AmountOverrideIn(Body):
    back_total_fen: Fen
    penalty_total_fen: Fen = 0
    reason: Annotated[str, Field(max_length=200)]


class AcceptIn(Body):
    customer: CustomerIn | None = None


class CancelIn(Body):
    reason: Annotated[str, Field(max_length=200)]


class ConfirmIn(Body):
    reference: Annotated[str, Field(max_length=64, description="the bank transfer's reference")]
    account_last4: Annotated[
        str, Field(max_length=32, description="last four digits of the account it went to, for the customer's notice")
    ] = ""


@router.post(
    "/terms",
    summary="Create a deposit terms template",
    **answers(DepositTerms, *SIGNED_IN, *WITH_BODY, 409, status=201, permission="deposit.terms"),
)
async def create_terms(body: TermsIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    row = await c.run(terms.create_terms, c.deps, actor, **body.model_dump())
    return JSONResponse(terms_view(row), status_code=201)


@router.get(
    "/terms", summary="The merchant's deposit terms", **answers(DepositTermsList, *SIGNED_IN, permission="deposit.read")
)
async def list_terms(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return {"items": [terms_view(t) for t in await c.run(terms.list_terms, c.deps, actor)]}


@router.post(
    "",
    summary="Record a deposit: attach terms to a deposit payment, or record the payment with its terms",
    **answers(DepositRecorded, *STEP, status=201, permission="deposit.record"),
)
async def record_deposit(body: DepositIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    common = {"terms_id": body.terms_id, "contract_value_fen": body.contract_value_fen, "held_until": body.held_until}
    if (body.sale_id is None) == (body.sale is None):
        raise Invalid("deposit.invalid_field", field="sale_id/sale")
    if body.sale is not None:
        sale, row = await c.run(
            holding.record_deposit_sale, c.deps, actor, SaleInput(**body.sale.model_dump()), **common
        )
    else:
        row = await c.run(holding.record_deposit, c.deps, actor, sale_id=body.sale_id, **common)
        sale = await c.run(sales.get_sale, c.deps, actor, row["sale_id"])
    return JSONResponse({"deposit": deposit_view(row), "sale": sale_view(sale)}, status_code=201)


@router.get("", summary="The merchant's deposits", **answers(DepositList, *SIGNED_IN, permission="deposit.read"))
async def list_deposits(
    actor: CurrentActor,
    c: Ctx,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    rows = await c.run(holding.list_deposits, c.deps, actor, status, limit)
    return {"items": [deposit_view(r) for r in rows]}


@router.get(
    "/overdue",
    summary="Deposits held beyond their terms",
    **answers(OverdueList, *SIGNED_IN, permission="deposit.overdue"),
)
async def list_overdue(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rows = await c.run(holding.list_overdue, c.deps, actor)
    today = c.deps.local_date(c.deps.clock.now())
    return {"items": [overdue_view(r, today) for r in rows]}


@router.get(
    "/{deposit_id}",
    summary="One deposit with its terms, proposals, payouts and audit trail",
    **answers(DepositDetail, *SIGNED_IN, 404, permission="deposit.read"),
)
async def get_deposit(deposit_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return detail_view(await c.run(holding.get_deposit, c.deps, actor, deposit_id))


@router.post(
    "/{deposit_id}/proposals",
    summary="Compute what goes back by the terms for how the deal ended",
    **answers(ProposalOut, *STEP, status=201, permission="deposit.propose"),
)
async def propose(deposit_id: str, body: ProposeIn, actor: CurrentActor, c: Ctx) -> JSONResponse:
    deductions = [d.model_dump() for d in body.deductions]
    row = await c.run(proposals.propose, c.deps, actor, deposit_id, ending=body.ending, deductions=deductions)
    return JSONResponse(proposal_view(row), status_code=201)


@router.post(
    "/{deposit_id}/proposals/{proposal_id}/override",
    summary="Override a proposal's amounts, with a reason",
    **answers(ProposalOut, *STEP, permission="deposit.decide"),
)
async def override(
    deposit_id: str, proposal_id: str, body: AmountOverrideIn, actor: CurrentActor, c: Ctx
) -> dict[str, Any]:
    row = await c.run(proposals.override, c.deps, actor, deposit_id, proposal_id, **body.model_dump())
    return proposal_view(row)


@router.post(
    "/{deposit_id}/proposals/{proposal_id}/accept",
    summary="Accept a proposal: the refund by the original route and the penalty payout are created",
    **answers(ProposalAccepted, *STEP, status=201, permission="deposit.decide"),
)
async def accept(
    deposit_id: str, proposal_id: str, actor: CurrentActor, c: Ctx, body: AcceptIn | None = None
) -> JSONResponse:
    cust = body.customer if body else None
    customer = CustomerInput(phone=cust.phone, name=cust.name, id_no=cust.id_no) if cust else None
    result = await c.run(proposals.accept, c.deps, actor, deposit_id, proposal_id, customer=customer)
    return JSONResponse(accepted_view(result), status_code=201)


@router.post(
    "/payouts/{payout_id}/confirm",
    summary="Confirm the penalty's bank transfer paid (a second person)",
    **answers(Payout, *STEP, permission="deposit.confirm_payout"),
)
async def confirm_payout(payout_id: str, body: ConfirmIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return plain(await c.run(payouts.confirm_payout, c.deps, actor, payout_id, body.reference, body.account_last4))


@router.post(
    "/payouts/{payout_id}/cancel",
    summary="Cancel a penalty transfer not yet paid, with a reason",
    **answers(Payout, *STEP, permission="deposit.decide"),
)
async def cancel_payout(payout_id: str, body: CancelIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return plain(await c.run(payouts.cancel_payout, c.deps, actor, payout_id, body.reason))
