"""Refund reports: the figures of a period by time or one dimension (JSON), the cases behind one row, and the
same report as CSV or XLSX for finance's spreadsheets. Read by the merchant's managers, finance, risk and
auditors (``report.read``); always the reader's own merchant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from posrefund.domain.policy import Reason
from posrefund.domain.refund import RefundStatus
from posrefund.domain.reports import By
from posrefund.domain.roles import Actor
from posrefund.domain.sale import Channel
from posrefund.entrypoints import report_export
from posrefund.entrypoints.api.context import AppContext, Ctx, CurrentActor
from posrefund.entrypoints.api.responses import SIGNED_IN, answers
from posrefund.entrypoints.api.responses_reports import RefundReport, ReportCaseList
from posrefund.i18n import pick_language
from posrefund.service.reports.figures import ReportRequest, refund_report, report_cases

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Id = Annotated[str | None, Query(min_length=1, max_length=40)]


def report_request(
    first: Annotated[date, Query(alias="from", description="first local (Asia/Shanghai) day")],
    last: Annotated[date, Query(alias="to", description="last local day, included (at most 366 days)")],
    by: Annotated[By, Query()] = By.DAY,
    currency: Annotated[str, Query(pattern="^[A-Z]{3}$")] = "CNY",
    store_id: Id = None,
    channel: Annotated[Channel | None, Query()] = None,
    terminal_id: Id = None,
    cashier_id: Id = None,
    reason: Annotated[Reason | None, Query()] = None,
    reason_category: Annotated[Literal["merchant", "customer", "error", "other"] | None, Query()] = None,
    route: Annotated[Literal["original", "alternative"] | None, Query()] = None,
    outcome: Annotated[RefundStatus | None, Query(description="a case status")] = None,
    source: Annotated[Literal["aggregates", "cases"], Query(description="cases: read the cases themselves")] = (
        "aggregates"
    ),
) -> ReportRequest:
    """The query string every report route shares."""
    return ReportRequest(
        first=first,
        last=last,
        by=by,
        currency=currency,
        store_id=store_id,
        channel=channel.value if channel else None,
        terminal_id=terminal_id,
        cashier_id=cashier_id,
        reason=reason.value if reason else None,
        reason_category=reason_category,
        route=route,
        outcome=outcome.value if outcome else None,
        raw=source == "cases",
    )


Asked = Annotated[ReportRequest, Depends(report_request)]


def _query_of(req: ReportRequest) -> dict[str, str]:
    """The request's own query string back (for the links to a row's cases)."""
    names = ("currency", "store_id", "channel", "terminal_id", "cashier_id", "reason", "reason_category", "route")
    out = {"from": req.first.isoformat(), "to": req.last.isoformat(), "by": req.by.value}
    out |= {n: str(getattr(req, n)) for n in (*names, "outcome") if getattr(req, n) is not None}
    return out


@router.get(
    "/refunds",
    summary="Refund figures of a period, by time or one dimension, with the previous period",
    **answers(RefundReport, *SIGNED_IN, permission="report.read"),
)
async def refunds_report(req: Asked, actor: CurrentActor, c: Ctx) -> dict[str, Any]:
    report = await c.run(refund_report, c.deps, actor, req)
    base = _query_of(req)
    for row in report["rows"]:
        row["cases"] = "/v1/reports/refunds/cases?" + urlencode({**base, "key": row["key"]})
    return report


@router.get(
    "/refunds/cases",
    summary="The cases behind one row of a refund report",
    **answers(ReportCaseList, *SIGNED_IN, permission="report.read"),
)
async def refunds_report_cases(
    req: Asked,
    actor: CurrentActor,
    c: Ctx,
    key: Annotated[str, Query(min_length=1, max_length=40, description="the row's key")],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    found, total = await c.run(report_cases, c.deps, actor, req, key, limit, offset)
    items = [
        {**{f: getattr(k, f) for f in ("id", "refund_no", "status", "amount_fen", "currency", "store_id")}}
        | {"terminal_id": k.terminal_id, "created_at": k.created_at.isoformat(), "href": f"/v1/refunds/{k.id}"}
        for k in found
    ]
    return {"items": items, "total": total}


@router.get(
    "/refunds/export.csv",
    summary="A refund report as CSV (Chinese titles and labels, codes beside them)",
    response_class=Response,
    **answers(None, *SIGNED_IN, media_type="text/csv", permission="report.read"),
)
async def refunds_report_csv(req: Asked, actor: CurrentActor, c: Ctx, request: Request) -> Response:
    return await _export(req, actor, c, request, report_export.csv_file)


@router.get(
    "/refunds/export.xlsx",
    summary="A refund report as an XLSX workbook (Chinese titles and labels, codes beside them)",
    response_class=Response,
    **answers(None, *SIGNED_IN, media_type=report_export.XLSX, permission="report.read"),
)
async def refunds_report_xlsx(req: Asked, actor: CurrentActor, c: Ctx, request: Request) -> Response:
    return await _export(req, actor, c, request, report_export.xlsx_file)


async def _export(
    req: ReportRequest, actor: Actor, c: AppContext, request: Request, write: Callable[[dict[str, Any], str], Response]
) -> Response:
    """The report as a file in the reader's language (Chinese unless ``Accept-Language`` asks for English)."""
    report = await c.run(refund_report, c.deps, actor, req)
    return write(report, pick_language(request.headers.get("accept-language")))
