"""Customer service's lookup by phone, and the read-only refund lists with filters and CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.domain.errors import Invalid
from posrefund.domain.refund import RefundStatus
from posrefund.domain.roles import Actor
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import page_number, paging
from posrefund.entrypoints.console.texts import label
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, actor_of, allowed, ctx_of, lang_of, render
from posrefund.entrypoints.csv_export import csv_response, titled
from posrefund.ports import RefundQuery
from posrefund.service import admin, refunds
from posrefund.service.deps import Deps
from posrefund.service.refunds import CaseView

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
PAGE = 50
EXPORT_PAGE = 200
EXPORT_MAX = 50_000


@router.get("/service")
async def service(request: Request) -> Response:
    actor = actor_of(request)
    actor.require("refund.reveal_pii")
    phone = request.query_params.get("phone", "")[:32]
    errors = Errors(lang_of(request))
    found: list[CaseView] | None = None
    if phone.strip():
        c = ctx_of(request)
        with errors.catch({"pii.invalid_phone": "phone"}):
            found = await c.run(refunds.find_by_phone, c.deps, actor, phone)
    return render(request, "service.html", phone=phone, found=found, errors=errors)


def _query(request: Request, errors: Errors) -> tuple[RefundQuery, dict[str, str]]:
    q = request.query_params
    values = {k: q.get(k, "")[:40] for k in ("status", "store_id", "from", "to", "page")}
    status = values["status"] if values["status"] in RefundStatus.__members__.values() else None
    if values["status"] and status is None:
        errors.put("status", Invalid("console.invalid_choice"))
    start = end = None
    for name in ("from", "to"):
        if values[name]:
            with errors.catch():
                day = fmt.parse_date(values[name], name)
                if name == "from":
                    start = fmt.day_start(day)
                else:
                    end = fmt.day_after(day)
    if start and end and start >= end:
        errors.put("to", Invalid("request.bad_range"))
        start = end = None
    page = page_number(values["page"], errors, last=100_000)
    query = RefundQuery(
        status=status,
        store_id=values["store_id"].strip() or None,
        created_from=start,
        created_to=end,
        limit=PAGE,
        offset=(page - 1) * PAGE,
    )
    return query, values


@router.get("/reports")
async def reports(request: Request) -> Response:
    actor, c = allowed(request, "report.read")
    errors = Errors(lang_of(request))
    query, values = _query(request, errors)
    views, total = await c.run(refunds.list_cases, c.deps, actor, query)
    stores = await c.run(admin.list_stores, c.deps, actor)
    page = query.offset // PAGE + 1
    export_qs = "&".join(f"{k}={v}" for k, v in values.items() if v and k != "page")
    return render(
        request,
        "reports.html",
        views=views,
        total=total,
        values=values,
        stores=stores,
        **paging(page, total, PAGE),
        statuses=list(RefundStatus),
        export_qs=export_qs,
        errors=errors,
    )


EXPORT_HEADER = (
    "refund_no",
    "case_id",
    "created_at",
    "status",
    "status_label",
    "amount_fen",
    "amount",
    "currency",
    "reason",
    "channel",
    "method",
    "store_id",
    "terminal_id",
    "sale_id",
    "customer_phone_masked",
    "expected_arrival",
    "succeeded_at",
)


def _export_row(view: CaseView, lang: str) -> tuple[Any, ...]:
    k = view.case
    return (
        k.refund_no,
        k.id,
        fmt.local(k.created_at, True),
        k.status.value,
        label("status", k.status, lang),
        k.amount_fen,
        fmt.yuan_input(k.amount_fen),
        k.currency,
        k.reason.value,
        k.channel,
        k.method,
        k.store_id,
        k.terminal_id,
        k.sale_id,
        view.customer.phone_masked,
        k.expected_arrival.isoformat() if k.expected_arrival else "",
        fmt.local(k.succeeded_at, True),
    )


def _export_rows(deps: Deps, actor: Actor, query: RefundQuery, lang: str) -> Iterator[tuple[Any, ...]]:
    """The filtered refunds page by page (each its own short read), at most ``EXPORT_MAX`` of them."""
    offset = 0
    while offset < EXPORT_MAX:
        views, _total = refunds.list_cases(deps, actor, replace(query, limit=EXPORT_PAGE, offset=offset))
        for v in views:
            yield _export_row(v, lang)
        if len(views) < EXPORT_PAGE:
            return
        offset += EXPORT_PAGE


@router.get("/reports/export.csv")
async def export(request: Request) -> Response:
    actor, c = allowed(request, "report.read")
    lang = lang_of(request)
    query, _values = _query(request, Errors(lang))
    return csv_response(titled(EXPORT_HEADER, lang), _export_rows(c.deps, actor, query, lang), "refunds.csv")
