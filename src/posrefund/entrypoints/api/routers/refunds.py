"""Refund cases (退款单): request with an Idempotency-Key, review, cancel, read, timeline."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from posrefund.domain.errors import DomainError, Invalid
from posrefund.domain.refund import RefundCase, RefundStatus
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Sale
from posrefund.entrypoints.api.context import AppContext, Ctx, CurrentActor, current_actor
from posrefund.entrypoints.api.json_body import json_body, openapi_body
from posrefund.entrypoints.api.paging import Keyset, keyset, seal_cursor
from posrefund.entrypoints.api.request_ids import request_id_of
from posrefund.entrypoints.api.responses import (
    SIGNED_IN,
    WITH_BODY,
    EventList,
    RefundCreated,
    RefundItemList,
    RefundOut,
    RefundPage,
    RevealedCustomer,
    ReviewQueue,
    answers,
)
from posrefund.entrypoints.api.responses_attempts import AttemptList
from posrefund.entrypoints.api.schemas import Body, RefundIn, RejectIn, RevealIn, ReviewIn
from posrefund.entrypoints.api.views import attempt_view, event_view, refund_view
from posrefund.ports import CustomerRecord, RefundQuery
from posrefund.service import execution, refunds, sales
from posrefund.service.refunds import Answer, CustomerInput, Idempotency, RefundRequest

router = APIRouter(prefix="/v1/refunds", tags=["refunds"])
# A case's own routes: it may not exist for this merchant (404) or not be in a state that allows the step (409).
ON_CASE = (*SIGNED_IN, 404)
STEP = (*ON_CASE, 409, *WITH_BODY)


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


async def _request(c: AppContext, actor: Actor, body: RefundIn, key: str, request_id: str) -> Answer:
    cust = body.customer
    req = RefundRequest(
        sale_id=body.sale_id,
        amount_fen=body.amount_fen or 0,
        reason=body.reason,
        note=body.note,
        customer=CustomerInput(phone=cust.phone, name=cust.name, id_no=cust.id_no) if cust else CustomerInput(),
        evidence_ids=tuple(body.evidence_ids),
        request_id=request_id,
        items=tuple((item.line, item.quantity) for item in body.items),
    )
    digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    idem = Idempotency(scope=actor.merchant_id or actor.id, key=key, request_hash=digest, render=render_created)
    return await c.run_once(refunds.request_refund_once, c.deps, actor, req, idem)


@router.post(
    "",
    summary="Request a refund of a sale (idempotent)",
    **answers(
        RefundCreated,
        *SIGNED_IN,
        *WITH_BODY,
        400,
        404,
        409,
        status=201,
        description="the new case; a retry with the same key gets the first answer again, "
        "with `Idempotency-Replayed: true`",
        openapi_extra=openapi_body(
            RefundIn, ("Idempotency-Key", "required: a retry reuses it (1–128 printable ASCII)")
        ),
        permission="refund.request",
    ),
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
        result = await _request(c, actor, body, key, request_id_of(request))
    finally:
        c.in_flight.discard(slot)
    headers = {"Idempotency-Replayed": "true"} if result.replayed else None
    return Response(result.body, status_code=result.status, media_type="application/json", headers=headers)


@router.get(
    "",
    summary="List refund cases, newest first (paged by cursor, filtered)",
    **answers(RefundPage, *SIGNED_IN, permission="refund.read"),
)
async def list_refunds(
    actor: CurrentActor,
    c: Ctx,
    pages: Annotated[Keyset, Depends(keyset(max_limit=200, max_offset=1_000_000))],
    status: Annotated[RefundStatus | None, Query()] = None,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    sale_id: Annotated[str | None, Query(max_length=40)] = None,
    date_from: Annotated[datetime | None, Query(alias="from")] = None,
    date_to: Annotated[datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    for value in (date_from, date_to):
        if value is not None and value.tzinfo is None:
            raise Invalid("sale.naive_time", field="from/to")
    refunds.created_between(date_from, date_to)
    merchant, secret = actor.merchant_id or "", c.deps.secret_key
    q = RefundQuery(
        status=status.value if status else None,
        store_id=store_id,
        sale_id=sale_id,
        created_from=date_from,
        created_to=date_to,
        limit=pages.limit + 1,
        offset=pages.offset,
        after=pages.after(secret, merchant),
    )
    views, total = await c.run(refunds.page_cases, c.deps, actor, q, count=pages.count)
    shown, fields = pages.page(
        views, total, lambda v: (v.case.created_at, v.case.id), partial(seal_cursor, secret, merchant)
    )
    return {"items": [refund_view(v.case, v.customer) for v in shown], **fields}


@router.get(
    "/review-queue",
    summary="Cases waiting for review, oldest first",
    **answers(ReviewQueue, *SIGNED_IN, permission="refund.review"),
)
async def review_queue(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    views, total = await c.run(refunds.pending_review, c.deps, actor)
    return {"items": [refund_view(v.case, v.customer) for v in views], "total": total}


@router.get("/{refund_id}", summary="One refund case", **answers(RefundOut, *ON_CASE, permission="refund.read"))
async def get_refund(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    view = await c.run(refunds.get_case, c.deps, actor, refund_id)
    return refund_view(view.case, view.customer)


async def _step(
    c: AppContext, actor: Actor, step: Callable[..., RefundCase], refund_id: str, *args: Any
) -> dict[str, Any]:
    """Take one step on a case (review, cancel, retry, …), then answer the case as the caller now sees it."""
    case = await c.run(step, c.deps, actor, refund_id, *args)
    view = await c.run(refunds.get_case, c.deps, actor, case.id)
    return refund_view(view.case, view.customer)


@router.post(
    "/{refund_id}/approve",
    summary="Approve a case under review",
    **answers(RefundOut, *STEP, permission="refund.review"),
)
async def approve(refund_id: str, actor: CurrentActor, c: Ctx, body: ReviewIn | None = None) -> dict[str, Any]:
    return await _step(c, actor, refunds.approve, refund_id, body.reason if body else "")


@router.post(
    "/{refund_id}/reject", summary="Reject a case under review", **answers(RefundOut, *STEP, permission="refund.review")
)
async def reject(refund_id: str, body: RejectIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _step(c, actor, refunds.reject, refund_id, body.reason)


@router.post(
    "/{refund_id}/cancel", summary="Withdraw a request", **answers(RefundOut, *STEP, permission="refund.cancel")
)
async def cancel(refund_id: str, actor: CurrentActor, c: Ctx, body: ReviewIn | None = None) -> dict[str, Any]:
    return await _step(c, actor, refunds.cancel, refund_id, body.reason if body else "")


@router.get(
    "/{refund_id}/events", summary="The case's audit trail", **answers(EventList, *ON_CASE, permission="audit.read")
)
async def events(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rows = await c.run(refunds.case_events, c.deps, actor, refund_id)
    return {"items": [event_view(r) for r in rows]}


@router.get(
    "/{refund_id}/items",
    summary="The sale's item lines and the units of them the case covers (none for a refund of an amount)",
    **answers(RefundItemList, *ON_CASE, permission="refund.read"),
)
async def items(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    _case, held, lines = await c.run(sales.case_items, c.deps, actor, refund_id)
    names = {line.line: line.name for line in lines}
    return {
        "items": [
            {"line": i.line, "name": names.get(i.line, ""), "quantity": i.quantity, "amount_fen": i.amount_fen}
            for i in held
        ]
    }


@router.get(
    "/{refund_id}/attempts",
    summary="The case's attempts on its channel (fence, number sent, answer; stale ones too)",
    **answers(AttemptList, *ON_CASE, permission="refund.read"),
)
async def attempts(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rows = await c.run(execution.attempts_of, c.deps, actor, refund_id)
    return {"items": [attempt_view(a) for a in rows]}


@router.post(
    "/{refund_id}/customer/reveal",
    summary="Reveal the customer's full details (audited)",
    **answers(RevealedCustomer, *ON_CASE, *WITH_BODY, permission="refund.reveal_pii"),
)
async def reveal(refund_id: str, body: RevealIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await c.run(refunds.reveal_customer, c.deps, actor, refund_id, body.purpose)


class RetryIn(ReviewIn):
    pass


RESOLUTIONS = "processing|succeeded|failed|closed|abnormal"


class ResolveIn(Body):
    status: Annotated[str, Field(min_length=1, max_length=20, description=RESOLUTIONS)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class PayoutIn(Body):
    reference: Annotated[str, Field(max_length=64, description="till no., or the cheque's bank reference")] = ""


@router.post(
    "/{refund_id}/retry", summary="Send a failed refund again", **answers(RefundOut, *STEP, permission="refund.retry")
)
async def retry(refund_id: str, body: RetryIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _step(c, actor, execution.retry, refund_id, body.reason)


@router.post(
    "/{refund_id}/resolve",
    summary="Settle an abnormal or unknown case by hand",
    **answers(RefundOut, *STEP, permission="refund.resolve"),
)
async def resolve(refund_id: str, body: ResolveIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _step(c, actor, execution.resolve, refund_id, body.status, body.reason)


class RerouteIn(Body):
    method: Annotated[str, Field(min_length=1, max_length=16, description="cash | transfer")]
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    payee: Annotated[
        str, Field(max_length=40, description="a transfer's payee: mobile number, or masked account ****1234")
    ] = ""


@router.post(
    "/{refund_id}/reroute",
    summary="Pay back by cash or transfer instead",
    **answers(RefundOut, *STEP, permission="refund.reroute"),
)
async def reroute(refund_id: str, body: RerouteIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _step(c, actor, execution.reroute, refund_id, body.method, body.reason, body.payee)


@router.post(
    "/{refund_id}/confirm-payout",
    summary="Confirm a cash or transfer payout",
    **answers(RefundOut, *STEP, permission="refund.confirm_payout"),
)
async def confirm_payout(refund_id: str, body: PayoutIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return await _step(c, actor, execution.confirm_payout, refund_id, body.reference)
