"""Printable documents: the refund application to the bank (退费申请) on a case — prepare, the form as PDF,
submission, outcome — and the refund-cause summary (退款原因周报 / 月报) as JSON or PDF, with the reader's
own subscription to it by email."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from posrefund.domain.errors import Conflict
from posrefund.entrypoints.api.context import Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, WITH_BODY, Out, answers
from posrefund.entrypoints.api.schemas import Body
from posrefund.ports.documents import BankApplicationRow, SubscriptionRow
from posrefund.service.documents import bank_applications as bank
from posrefund.service.documents import summary, summary_delivery
from posrefund.service.documents.summary_document import summary_document

router = APIRouter(tags=["documents"])
ON_CASE = (*SIGNED_IN, 404)
STEP = (*ON_CASE, 409, *WITH_BODY)
APP = "/v1/refunds/{refund_id}/bank-application"
PDF = "application/pdf"


class PrepareIn(Body):
    reason: Literal["account_closed", "too_old", "issuer_dispute", "other"]
    statement: Annotated[str, Field(max_length=2000)] = ""
    attachments: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=20)] = Field(
        default_factory=list
    )
    evidence_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=20)] | None = (
        None
    )


class SubmitIn(Body):
    submitted_on: date
    channel: Literal["counter", "mail", "portal", "account_manager"]
    bank: Annotated[str, Field(min_length=1, max_length=100)]
    bank_reference: Annotated[str, Field(max_length=64)] = ""


class OutcomeIn(Body):
    outcome: Literal["accepted", "rejected"]
    outcome_on: date
    bank_reply: Annotated[str, Field(max_length=2000)] = ""


class BankApplication(Out):
    id: str
    merchant_id: str
    case_id: str
    status: str
    reason: str
    statement: str
    evidence_ids: list[str]
    attachments: list[str]
    submitted_on: str | None
    channel: str
    bank: str
    bank_reference: str
    deadline: str | None
    outcome_on: str | None
    bank_reply: str
    prepared_by: str
    prepared_at: str
    updated_by: str
    updated_at: str
    version: int
    pdf: str


class BankApplicationList(Out):
    items: list[BankApplication]


def application_view(row: BankApplicationRow) -> dict[str, Any]:
    return {
        **row,
        "evidence_ids": json.loads(row["evidence_ids"]),
        "attachments": json.loads(row["attachments"]),
        "pdf": f"/v1/refunds/{row['case_id']}/bank-application/{row['id']}/form.pdf",
    }


@router.post(
    APP,
    summary="Prepare a refund application to the bank",
    **answers(BankApplication, *STEP, status=201, permission="bank_application.manage"),
)
async def prepare(refund_id: str, body: PrepareIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    evidence = None if body.evidence_ids is None else tuple(body.evidence_ids)
    prep = bank.Preparation(body.reason, body.statement, tuple(body.attachments), evidence)
    return application_view(await c.run(bank.prepare, c.deps, actor, refund_id, prep))


@router.get(
    APP,
    summary="The case's bank applications",
    **answers(BankApplicationList, *ON_CASE, permission="bank_application.read"),
)
async def list_applications(refund_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rows = await c.run(bank.applications, c.deps, actor, refund_id)
    return {"items": [application_view(r) for r in rows]}


@router.get(
    APP + "/{application_id}",
    summary="One bank application",
    **answers(BankApplication, *ON_CASE, permission="bank_application.read"),
)
async def get_application(refund_id: str, application_id: str, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    return application_view(await c.run(bank.get, c.deps, actor, refund_id, application_id))


@router.get(
    APP + "/{application_id}/form.pdf",
    summary="The application form as PDF (Chinese; the card masked)",
    response_class=Response,
    **answers(None, *ON_CASE, 409, media_type=PDF, permission="bank_application.read"),
)
async def form_pdf(refund_id: str, application_id: str, actor: CurrentActor, c: Ctx) -> Response:
    content = await c.run(bank.form_pdf, c.deps, actor, refund_id, application_id)
    disposition = f'attachment; filename="bank-application-{application_id}.pdf"'
    return Response(content, media_type=PDF, headers={"Content-Disposition": disposition})


@router.post(
    APP + "/{application_id}/submit",
    summary="Record the submission to the bank",
    **answers(BankApplication, *STEP, permission="bank_application.manage"),
)
async def submit(refund_id: str, application_id: str, body: SubmitIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    sub = bank.Submission(body.submitted_on, body.channel, body.bank, body.bank_reference)
    row = await c.run(bank.submit, c.deps, actor, refund_id, application_id, sub, c.router.is_workday)
    return application_view(row)


@router.post(
    APP + "/{application_id}/outcome",
    summary="Record the bank's answer",
    **answers(BankApplication, *STEP, permission="bank_application.manage"),
)
async def outcome(refund_id: str, application_id: str, body: OutcomeIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    args = (refund_id, application_id, body.outcome, body.outcome_on, body.bank_reply)
    return application_view(await c.run(bank.record_outcome, c.deps, actor, *args))


# ---- the refund-cause summary ----

Period = Annotated[str, Query(min_length=7, max_length=10, description="YYYY-MM, or the Monday YYYY-MM-DD of a week")]
Stores = Annotated[list[str] | None, Query(max_length=50)]


class CauseSummary(Out):
    """The summary's figures (money in fen); the PDF and the console show them in yuan."""

    merchant_id: str
    merchant_name: str
    period_key: str
    cadence: str
    period: dict[str, Any]
    previous: dict[str, Any]
    total: dict[str, Any]
    stores: list[dict[str, Any]]
    notable: dict[str, list[dict[str, Any]]]
    open_cases: list[dict[str, Any]]
    overdue_applications: list[dict[str, Any]]
    advice: list[dict[str, Any]]
    names: dict[str, str]
    pending_days: list[str]


@router.get(
    "/v1/reports/summary",
    summary="The refund-cause summary of a week or month",
    **answers(CauseSummary, *SIGNED_IN, permission="report.read"),
)
async def cause_summary(period: Period, actor: CurrentActor, c: Ctx, store_id: Stores = None) -> dict[str, Any]:
    s = await c.run(summary.cause_summary, c.deps, actor, period, tuple(store_id or ()))
    return json.loads(json.dumps(asdict(s), default=str))  # type: ignore[no-any-return]


@router.get(
    "/v1/reports/summary.pdf",
    summary="The refund-cause summary as PDF",
    response_class=Response,
    **answers(None, *SIGNED_IN, 409, media_type=PDF, permission="report.read"),
)
async def cause_summary_pdf(period: Period, actor: CurrentActor, c: Ctx, store_id: Stores = None) -> Response:
    s = await c.run(summary.cause_summary, c.deps, actor, period, tuple(store_id or ()))
    if c.deps.pdf is None:
        raise Conflict("document.no_renderer")
    content = await c.run(c.deps.pdf.render, summary_document(s, c.deps.clock.now()))
    disposition = f'attachment; filename="refund-causes-{s.period_key}.pdf"'
    return Response(content, media_type=PDF, headers={"Content-Disposition": disposition})


class SubscriptionIn(Body):
    cadence: Literal["weekly", "monthly"]
    email: Annotated[str, Field(min_length=3, max_length=254)]
    store_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=40)]], Field(max_length=50)] = Field(
        default_factory=list
    )
    language: Literal["zh", "en"] = "zh"


class Subscription(Out):
    id: str
    cadence: str
    store_ids: list[str]
    email_masked: str
    language: str
    active: bool


class SubscriptionList(Out):
    items: list[Subscription]


def subscription_view(row: SubscriptionRow) -> dict[str, Any]:
    keep = ("id", "cadence", "email_masked", "language", "active")
    return {**{k: row[k] for k in keep}, "store_ids": json.loads(row["store_ids"])}  # type: ignore[literal-required]


SUBS = "/v1/reports/summary/subscriptions"


@router.get(
    SUBS, summary="My summary subscriptions", **answers(SubscriptionList, *SIGNED_IN, permission="summary.subscribe")
)
async def my_subscriptions(actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    rows = await c.run(summary_delivery.my_subscriptions, c.deps, actor)
    return {"items": [subscription_view(r) for r in rows]}


@router.put(
    SUBS,
    summary="Subscribe to the weekly or monthly summary by email (replaces my subscription of that cadence)",
    **answers(Subscription, *SIGNED_IN, 404, *WITH_BODY, permission="summary.subscribe"),
)
async def subscribe(body: SubscriptionIn, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    sub = summary_delivery.SubscriptionInput(body.cadence, body.email, tuple(body.store_ids), body.language)
    return subscription_view(await c.run(summary_delivery.subscribe, c.deps, actor, sub))


@router.delete(
    SUBS,
    summary="End my subscription of one cadence",
    **answers(None, *SIGNED_IN, 404, status=204, permission="summary.subscribe"),
)
async def unsubscribe(
    cadence: Annotated[Literal["weekly", "monthly"], Query()], actor: CurrentActor, c: Ctx
) -> Response:
    await c.run(summary_delivery.unsubscribe, c.deps, actor, cadence)
    return Response(status_code=204)
