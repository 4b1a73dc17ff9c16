"""Fund holds (预授权 / 资金授权, docs/holds.md): the terminal (or the front desk) records the card hold it made,
or asks Alipay to freeze with the payer's payment code; staff ask for its completion, release or completion
cancel, which the worker executes on the channel exactly once; holds nearing their end are listed. Amounts are
fen."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from posrefund.domain.fund_hold import HoldState, HoldStep, completion_ceiling, held_fen
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, answers
from posrefund.entrypoints.api.schemas_recon import Strict
from posrefund.entrypoints.api.views import iso
from posrefund.i18n import message, pick_language
from posrefund.i18n.messages import MESSAGES
from posrefund.ports.fund_holds import HoldOperation, HoldRecord
from posrefund.service import fund_holds
from posrefund.service.fund_holds import AlipayHoldInput, CardHoldInput, HoldWorker

router = APIRouter(prefix="/v1/holds", tags=["holds"])
ON_OBJECT = (*SIGNED_IN, 404)


class HoldIn(Strict):
    terminal_id: str = Field(max_length=40)
    amount_fen: int = Field(gt=0, le=10**10)
    held_at: datetime = Field(description="when the terminal's 预授权 was approved (timezone-aware)")
    rrn: str = Field(max_length=12, description="field 37 of the 预授权's answer")
    auth_code: str = Field(max_length=6, description="field 38: every later operation quotes it")
    voucher_no: str = Field(max_length=6)
    batch_no: str = Field(max_length=6)
    card_masked: str = Field(default="", max_length=32, description="first 6 and last 4 digits at most")
    hold_no: str = Field(default="", max_length=64, description="ours; batch + voucher when empty")


class AlipayHoldIn(Strict):
    terminal_id: str = Field(max_length=40)
    amount_fen: int = Field(gt=0, le=10**10, description="what to freeze")
    payer_code: str = Field(
        max_length=24, repr=False, description="the payment code the payer shows (付款码): used once, never stored"
    )
    title: str = Field(max_length=100, description="the order title the payer sees (e.g. 房间押金)")
    expires_at: datetime = Field(description="when posrefund considers the freeze over (timezone-aware)")


class CompleteIn(Strict):
    amount_fen: int = Field(gt=0, le=10**10, description="up to the hold's amount plus the scheme's tolerance")
    reason: str = Field(default="", max_length=500)


class ReasonIn(Strict):
    reason: str = Field(default="", max_length=500)


class Operation(BaseModel):
    id: str
    operation_no: str
    step: str
    amount_fen: int
    status: str = Field(description="pending, processing, succeeded, declined or unresolved")
    attempts: int
    code: str = Field(description="the channel's answer code, once it answered")
    message: str
    requested_at: str
    finished_at: str | None


class Hold(BaseModel):
    id: str
    hold_no: str
    state: str = Field(description="holding, held, completed, released, expired, failed or cancelled")
    amount_fen: int
    held_fen: int = Field(description="still held on the cardholder's account")
    ceiling_fen: int = Field(description="the most a completion may take")
    taken_fen: int
    currency: str
    held_at: str
    expires_at: str = Field(description="the end of the scheme's validity: the issuer releases the hold then")
    rrn: str
    auth_code: str
    voucher_no: str
    batch_no: str
    card_masked: str
    auth_no: str = Field(default="", description="Alipay's id of the freeze (资金授权订单号), once it is frozen")
    completed_at: str | None
    sale_id: str = Field(description="the sale the completion became (refund it as any card sale)")
    operations: list[Operation] = Field(default_factory=list)


class HoldList(BaseModel):
    items: list[Hold]


def hold_view(hold: HoldRecord, operations: list[HoldOperation] | None = None) -> dict[str, Any]:
    held, status = hold.held, hold.status
    return {
        "id": hold.id,
        "hold_no": held.hold_no,
        "channel": held.channel,
        "terminal_id": hold.terminal_id,
        "state": status.state.value,
        "amount_fen": held.amount_fen,
        "currency": held.currency,
        "held_fen": held_fen(held, status),
        "ceiling_fen": completion_ceiling(held),
        "taken_fen": status.taken_fen,
        "held_at": iso(held.held_at),
        "expires_at": iso(held.expires_at),
        "rrn": held.rrn,
        "auth_code": held.auth_code,
        "voucher_no": held.voucher_no,
        "batch_no": held.batch_no,
        "card_masked": held.card_masked,
        "auth_no": held.channel_hold_id,
        "completed_at": iso(status.completion.completed_at) if status.completion else None,
        "sale_id": hold.sale_id,
        "operations": [operation_view(op) for op in operations or []],
    }


def operation_view(op: HoldOperation) -> dict[str, Any]:
    return {
        "id": op.id,
        "hold_id": op.hold_id,
        "operation_no": op.operation_no,
        "step": op.step.value,
        "amount_fen": op.amount_fen,
        "status": op.status.value,
        "attempts": op.attempts,
        "code": op.code,
        "message": op.message,
        "requested_by": op.requested_by,
        "requested_at": iso(op.requested_at),
        "finished_at": iso(op.finished_at),
    }


@router.post(
    "",
    summary="Record a card pre-authorisation",
    **answers(Hold, *ON_OBJECT, *WITH_BODY, 409, status=201, permission="hold.record"),
)
async def record(body: HoldIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    slip = CardHoldInput(**body.model_dump())
    return hold_view(await c.run(fund_holds.record_card_hold, c.deps, actor, slip))


@router.post(
    "/alipay",
    summary="Freeze the payer's Alipay money (资金授权冻结) with the payment code they show",
    **answers(Hold, *ON_OBJECT, *WITH_BODY, 409, status=201, permission="hold.record"),
)
async def freeze(body: AlipayHoldIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    """Answers once Alipay did: held (with its auth_no), failed (the operation has Alipay's reason) or holding
    (the answer is not known yet: the worker asks Alipay, and withdraws a freeze that stays unknown)."""
    asked = AlipayHoldInput(**body.model_dump())
    hw = HoldWorker(c.router.holds, c.router.lease_margin, worker="api")
    hold = await c.run_apart(fund_holds.record_alipay_hold, c.deps, actor, hw, asked)
    return hold_view(hold, (await c.run(fund_holds.get_hold, c.deps, actor, hold.id))[1])


@router.get(
    "", summary="Card pre-authorisations, newest first", **answers(HoldList, *SIGNED_IN, permission="hold.read")
)
async def list_holds(
    actor: CurrentActor,
    c: Ctx,
    state: Annotated[HoldState | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict[str, Any]:
    states = frozenset({state}) if state is not None else frozenset()
    return {"items": [hold_view(h) for h in await c.run(fund_holds.list_holds, c.deps, actor, states, limit)]}


@router.get(
    "/expiring",
    summary="Holds whose validity ends within `days`: complete or release them first",
    **answers(HoldList, *SIGNED_IN, permission="hold.read"),
)
async def expiring(actor: CurrentActor, c: Ctx, days: Annotated[int, Query(ge=1, le=30)] = 3) -> dict[str, Any]:
    found = await c.run(fund_holds.expiring_holds, c.deps, actor, timedelta(days=days))
    return {"items": [hold_view(h) for h in found]}


class Attention(BaseModel):
    hold: Hold
    operation: Operation
    warning: str = Field(description="release_declined, withdrawal_declined or unresolved")
    code: str = Field(description="the channel's code: Alipay's sub_code, the acquirer's field 39")
    code_label: str = Field(description="what the code means, in the reader's language (Chinese by default)")
    message: str = Field(description="the warning for a person, in the reader's language")


class AttentionList(BaseModel):
    items: list[Attention]


def attention_view(found: fund_holds.HoldAttention, lang: str) -> dict[str, Any]:
    code = found.operation.code
    key = f"hold.channel_code.{code}"
    label = message(key if key in MESSAGES else "hold.channel_code.other", lang, {"code": code})
    return {
        "hold": hold_view(found.hold),
        "operation": operation_view(found.operation),
        "warning": found.warning.value,
        "code": code,
        "code_label": label,
        "message": message(f"hold.warning.{found.warning.value}", lang, {"label": label}),
    }


@router.get(
    "/attention",
    summary="Holds a supervisor must look at: a refused release, a refused withdrawal, an unresolved operation",
    **answers(AttentionList, *SIGNED_IN, permission="hold.read"),
)
async def attention(
    request: Request, actor: CurrentActor, c: Ctx, limit: Annotated[int, Query(ge=1, le=200)] = 100
) -> dict[str, Any]:
    lang = pick_language(request.headers.get("accept-language"))
    found = await c.run(fund_holds.holds_needing_attention, c.deps, actor, limit)
    return {"items": [attention_view(f, lang) for f in found]}


@router.get("/{hold_id}", summary="One hold and its operations", **answers(Hold, *ON_OBJECT, permission="hold.read"))
async def get_hold(hold_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    hold, operations = await c.run(fund_holds.get_hold, c.deps, actor, hold_id)
    return hold_view(hold, operations)


async def _ask(c: Ctx, actor: Any, hold_id: str, step: HoldStep, amount_fen: int, reason: str) -> dict[str, Any]:
    return operation_view(await c.run(fund_holds.ask, c.deps, actor, hold_id, step, amount_fen, reason))


@router.post(
    "/{hold_id}/complete",
    summary="预授权完成: take the final amount (queued for the worker)",
    **answers(Operation, *ON_OBJECT, *WITH_BODY, 409, status=202, permission="hold.complete"),
)
async def complete(hold_id: str, body: CompleteIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _ask(c, actor, hold_id, HoldStep.COMPLETE, body.amount_fen, body.reason)


@router.post(
    "/{hold_id}/release",
    summary="预授权撤销: release the whole hold (queued for the worker)",
    **answers(Operation, *ON_OBJECT, *WITH_BODY, 409, status=202, permission="hold.release"),
)
async def release(hold_id: str, body: ReasonIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _ask(c, actor, hold_id, HoldStep.RELEASE, 0, body.reason)


@router.post(
    "/{hold_id}/cancel-completion",
    summary="预授权完成撤销: undo today's completion, the hold is back (queued for the worker)",
    **answers(Operation, *ON_OBJECT, *WITH_BODY, 409, status=202, permission="hold.cancel_completion"),
)
async def cancel_completion(hold_id: str, body: ReasonIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _ask(c, actor, hold_id, HoldStep.CANCEL_COMPLETION, 0, body.reason)


@router.post(
    "/{hold_id}/retry",
    summary="Ask again what the channel refused: a refused release, or the withdrawal of a freeze",
    **answers(Operation, *ON_OBJECT, *WITH_BODY, 409, status=202, permission="hold.retry"),
)
async def retry(hold_id: str, body: ReasonIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return operation_view(await c.run(fund_holds.retry, c.deps, actor, hold_id, body.reason))
