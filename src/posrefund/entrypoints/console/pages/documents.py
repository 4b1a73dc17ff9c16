"""Printable documents in the console: a card refund's applications to the bank (退费申请) — prepare, download
the form, record the submission and the bank's answer — and the refund-cause summary (退款原因周报 / 月报) of a
week or month, read on the page or downloaded as PDF."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.domain.bank_application import OPEN, ApplicationStatus, SubmitChannel, WhyBank
from posrefund.domain.cause_rules import last_complete
from posrefund.domain.errors import Conflict
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import posted, signed_in, texts
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render, submit
from posrefund.service import refunds
from posrefund.service.documents import bank_applications as bank
from posrefund.service.documents import summary
from posrefund.service.documents.html import document_fragment
from posrefund.service.documents.summary_document import summary_document

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
PDF = "application/pdf"
FIELDS = {
    "bank_application.bad_reason": "reason",
    "bank_application.text_required": "bank",
    "bank_application.bad_submission_date": "submitted_on",
    "bank_application.bad_outcome_date": "outcome_on",
    "bank_application.bad_outcome": "outcome",
    "bank_application.bad_channel": "channel",
    "console.invalid_date": "submitted_on",
}


async def _page(request: Request, case_id: str, status: int = 200, **extra: Any) -> Response:
    actor, c = signed_in(request)
    view = await c.run(refunds.get_case, c.deps, actor, case_id[:64])
    apps = await c.run(bank.applications, c.deps, actor, view.case.id)
    return render(
        request,
        "bank_application.html",
        status,
        case=view.case,
        apps=apps,
        is_open=lambda a: ApplicationStatus(a["status"]) in OPEN,
        reasons=[w.value for w in WhyBank],
        channels=[ch.value for ch in SubmitChannel],
        today=c.deps.local_date(c.deps.clock.now()).isoformat(),
        typed=extra.pop("typed", {}),
        **extra,
    )


@router.get("/cases/{case_id}/bank-application")
async def page(request: Request, case_id: str) -> Response:
    return await _page(request, case_id)


async def _act(request: Request, case_id: str, step: Any, typed: dict[str, str]) -> Response:
    return await submit(
        request,
        step,
        lambda errors: _page(request, case_id, 422, errors=errors, typed=typed),
        f"{PREFIX}/cases/{case_id[:64]}/bank-application",
        FIELDS,
    )


@router.post("/cases/{case_id}/bank-application")
async def prepare(request: Request, case_id: str) -> Response:
    actor, c, form = await posted(request, "bank_application.manage")
    typed = texts(form, "reason", "statement", "attachments")
    papers = tuple(line.strip() for line in typed["attachments"].splitlines() if line.strip())

    async def step() -> None:
        fmt.bounded(typed["statement"], "statement", 2000)
        prep = bank.Preparation(typed["reason"], typed["statement"], papers)
        await c.run(bank.prepare, c.deps, actor, case_id[:64], prep)

    return await _act(request, case_id, step, typed)


@router.post("/cases/{case_id}/bank-application/{application_id}/submit")
async def record_submission(request: Request, case_id: str, application_id: str) -> Response:
    actor, c, form = await posted(request, "bank_application.manage")
    typed = texts(form, "submitted_on", "channel", "bank", "bank_reference")

    async def step() -> None:
        day = fmt.parse_date(typed["submitted_on"], "submitted_on")
        sub = bank.Submission(day, typed["channel"], typed["bank"], typed["bank_reference"])
        await c.run(bank.submit, c.deps, actor, case_id[:64], application_id[:64], sub, c.router.is_workday)

    return await _act(request, case_id, step, typed)


@router.post("/cases/{case_id}/bank-application/{application_id}/outcome")
async def record_outcome(request: Request, case_id: str, application_id: str) -> Response:
    actor, c, form = await posted(request, "bank_application.manage")
    typed = texts(form, "outcome", "outcome_on", "bank_reply")

    async def step() -> None:
        day = fmt.parse_date(typed["outcome_on"], "outcome_on")
        args = (case_id[:64], application_id[:64], typed["outcome"], day, typed["bank_reply"])
        await c.run(bank.record_outcome, c.deps, actor, *args)

    return await _act(request, case_id, step, typed)


@router.get("/cases/{case_id}/bank-application/{application_id}/form.pdf")
async def form_pdf(request: Request, case_id: str, application_id: str) -> Response:
    actor, c = allowed(request, "bank_application.read")
    content = await c.run(bank.form_pdf, c.deps, actor, case_id[:64], application_id[:64])
    disposition = f'attachment; filename="bank-application-{application_id[:64]}.pdf"'
    return Response(content, media_type=PDF, headers={"Content-Disposition": disposition})


def _period(request: Request, c: Any) -> str:
    asked = request.query_params.get("period", "")[:10].strip()
    return asked or last_complete("monthly", c.deps.local_date(c.deps.clock.now()))


@router.get("/reports/summary")
async def summary_page(request: Request) -> Response:
    actor, c = allowed(request, "report.read")
    period = _period(request, c)
    errors = Errors(lang_of(request))
    fragment = ""
    with errors.catch({"summary.bad_period": "period"}):
        s = await c.run(summary.cause_summary, c.deps, actor, period)
        fragment = document_fragment(summary_document(s, c.deps.clock.now()))
    return render(request, "summary.html", 422 if errors else 200, period=period, fragment=fragment, errors=errors)


@router.get("/reports/summary.pdf")
async def summary_pdf(request: Request) -> Response:
    actor, c = allowed(request, "report.read")
    s = await c.run(summary.cause_summary, c.deps, actor, _period(request, c))
    if c.deps.pdf is None:
        raise Conflict("document.no_renderer")
    content = await c.run(c.deps.pdf.render, summary_document(s, c.deps.clock.now()))
    disposition = f'attachment; filename="refund-causes-{s.period_key}.pdf"'
    return Response(content, media_type=PDF, headers={"Content-Disposition": disposition})
