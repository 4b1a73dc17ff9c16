"""Refund cases (退款单): request with an Idempotency-Key, review, cancel, read, timeline."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field
from sqlalchemy.exc import IntegrityError

from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.refund import RefundCase
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale
from posrefund.domain.status import RefundStatus
from posrefund.entrypoints.api.context import AppContext, Ctx, CurrentActor, current_actor
from posrefund.entrypoints.api.json_body import json_body, openapi_body
from posrefund.entrypoints.api.schemas import Body, RefundIn, RejectIn, RevealIn, ReviewIn
from posrefund.entrypoints.api.views import event_view, refund_view
from posrefund.ports import CustomerRecord, RefundQuery
from posrefund.service import execution, refunds
from posrefund.service.refunds import Answer, CustomerInput, Idempotency, RefundRequest

router = APIRouter(prefix="/v1/refunds", tags=["refunds"])


class InFlight(DomainError):
    def __init__(self) -> None:
        super().__init__("idempotency.in_progress")


def _check_key(key: str | None) -> str:
    if key is None:
        raise Invalid("idempotency.key_required")
    if not (1 <= len(key) <= 128) or not key.isascii() or not key.isprintable() or key.strip() != key:
        raise Invalid("idempotency.key_invalid")
    return key


_encode = json.JSONEncoder(ensure_ascii=False).encode


def render_created(case: RefundCase, sale: Sale, customer: CustomerRecord) -> tuple[int, bytes]:
    view = refund_view(case, customer)
    view["sale_refundable_fen"] = sale.refundable_fen
    return 201, _encode(view).encode()


async def _request(c: AppContext, actor: Actor, body: RefundIn, key: str) -> Answer:
    cust = body.customer
    req = RefundRequest(
        sale_id=body.sale_id,
        amount_fen=body.amount_fen,
        reason=body.reason,
        note=body.note,
        customer=CustomerInput(phone=cust.phone, name=cust.name, id_no=cust.id_no) if cust else CustomerInput(),
        evidence_ids=tuple(body.evidence_ids),
    )
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    idem = Idempotency(scope=actor.merchant_id or actor.id, key=key, request_hash=digest, render=render_created)
    try:
        return await c.run(refunds.request_refund_once, c.deps, actor, req, idem)
    except IntegrityError:
        # Another process committed the same key between our lookup and our insert: answer as a replay.
        return await c.run(refunds.request_refund_once, c.deps, actor, req, idem)


@router.post(
    "",
    status_code=201,
    responses={200: {"description": "replayed answer"}},
    openapi_extra=openapi_body(RefundIn, ("Idempotency-Key", "required: a retry reuses it (1–128 printable ASCII)")),
)
async def request_refund(request: Request) -> Response:
    # The counter's hot path reads who calls, the body and the key by hand (json_body.py says why);
    # as through Depends(), who is calling is checked before the body is looked at.
    c: AppContext = request.app.state.ctx
    actor = await current_actor(request)
    actor.require("refund.request")
    body = await json_body(request, RefundIn)
    key = _check_key(request.headers.get("idempotency-key"))
    slot = (actor.merchant_id or actor.id, key)
    if slot in c.in_flight:
        raise InFlight()
    c.in_flight.add(slot)
    try:
        result = await _request(c, actor, body, key)
    finally:
        c.in_flight.discard(slot)
    headers = {"Idempotency-Replayed": "true"} if result.replayed else None
    return Response(result.body, status_code=result.status, media_type="application/json", headers=headers)


@router.get("")
async def list_refunds(
    actor: CurrentActor,
    c: Ctx,
    status: Annotated[RefundStatus | None, Query()] = None,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    sale_id: Annotated[str | None, Query(max_length=40)] = None,
    date_from: Annotated[datetime | None, Query(alias="from")] = None,
    date_to: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    for value in (date_from, date_to):
        if value is not None and value.tzinfo is None:
            raise Invalid("sale.naive_time", field="from/to")
    refunds.created_between(date_from, date_to)
    q = RefundQuery(
        status=status.value if status else None,
        store_id=store_id,
        sale_id=sale_id,
        created_from=date_from,
        created_to=date_to,
        limit=limit,
        offset=offset,
    )
    views, total = await c.run(refunds.list_cases, c.deps, actor, q)
    return {"items": [refund_view(v.case, v.customer) for v in views], "total": total, "limit": limit, "offset": offset}


@router.get("/review-queue")
async def review_queue(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    views, total = await c.run(refunds.pending_review, c.deps, actor)
    return {"items": [refund_view(v.case, v.customer) for v in views], "total": total}


@router.get("/{refund_id}")
async def get_refund(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    view = await c.run(refunds.get_case, c.deps, actor, refund_id)
    return refund_view(view.case, view.customer)


async def _after(c: AppContext, actor: Actor, case: RefundCase) -> dict[str, Any]:
    view = await c.run(refunds.get_case, c.deps, actor, case.id)
    return refund_view(view.case, view.customer)


@router.post("/{refund_id}/approve")
async def approve(refund_id: str, actor: CurrentActor, c: Ctx, body: ReviewIn | None = None) -> dict[str, Any]:
    case = await c.run(refunds.approve, c.deps, actor, refund_id, body.reason if body else "")
    return await _after(c, actor, case)


@router.post("/{refund_id}/reject")
async def reject(refund_id: str, body: RejectIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    case = await c.run(refunds.reject, c.deps, actor, refund_id, body.reason)
    return await _after(c, actor, case)


@router.post("/{refund_id}/cancel")
async def cancel(refund_id: str, actor: CurrentActor, c: Ctx, body: ReviewIn | None = None) -> dict[str, Any]:
    case = await c.run(refunds.cancel, c.deps, actor, refund_id, body.reason if body else "")
    return await _after(c, actor, case)


@router.get("/{refund_id}/events")
async def events(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rows = await c.run(refunds.case_events, c.deps, actor, refund_id)
    return {"items": [event_view(r) for r in rows]}


@router.post("/{refund_id}/customer/reveal")
async def reveal(refund_id: str, body: RevealIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(refunds.reveal_customer, c.deps, actor, refund_id, body.purpose)


class RetryIn(ReviewIn):
    pass


class ResolveIn(Body):
    status: Annotated[str, Field(min_length=1, max_length=20, description="processing|succeeded|failed|closed")]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class PayoutIn(Body):
    reference: Annotated[str, Field(max_length=64, description="till no., or the cheque's bank reference")] = ""


@router.post("/{refund_id}/retry")
async def retry(refund_id: str, body: RetryIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    case = await c.run(execution.retry, c.deps, actor, refund_id, body.reason)
    return await _after(c, actor, case)


@router.post("/{refund_id}/resolve")
async def resolve(refund_id: str, body: ResolveIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    case = await c.run(execution.resolve, c.deps, actor, refund_id, body.status, body.reason)
    return await _after(c, actor, case)


class RerouteIn(Body):
    method: Annotated[str, Field(min_length=1, max_length=16, description="cash | transfer")]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


@router.post("/{refund_id}/reroute")
async def reroute(refund_id: str, body: RerouteIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    case = await c.run(execution.reroute, c.deps, actor, refund_id, body.method, body.reason)
    return await _after(c, actor, case)


@router.post("/{refund_id}/confirm-payout")
async def confirm_payout(refund_id: str, body: PayoutIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    case = await c.run(execution.confirm_payout, c.deps, actor, refund_id, body.reference)
    return await _after(c, actor, case)
