"""The refund report as charts (ECharts, served from our own static files) with the table of every chart beside
it: the trend by day, reasons by category, stores by day; filters, the previous period, and a way from any figure
to the cases behind it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.domain.errors import Invalid
from posrefund.domain.reports import By, Period
from posrefund.domain.sale import Channel
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.form_errors import Errors
from posrefund.entrypoints.console.forms import page_number, paging
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, allowed, lang_of, render
from posrefund.ports import ReportCase
from posrefund.service import admin
from posrefund.service.reports.charts import CATEGORIES, chart_figures
from posrefund.service.reports.figures import ReportRequest, report_cases

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
FILTERS = ("from", "to", "store_id", "terminal_id", "cashier_id", "channel", "reason_category")
DEFAULT_DAYS = 30
MAX_DAYS = 92
PAGE = 50


def _days(values: dict[str, str], errors: Errors, today: date) -> tuple[date, date]:
    """The period asked for: the last 30 days by default, at most 92 days, never backwards."""
    first = last = None
    for name in ("from", "to"):
        if values[name]:
            with errors.catch():
                day = fmt.parse_date(values[name], name)
                first, last = (day, last) if name == "from" else (first, day)
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last or (last - first).days >= MAX_DAYS:
        errors.put("to", Invalid("request.bad_range"))
        first, last = today - timedelta(days=DEFAULT_DAYS - 1), today
    return first, last


def chart_request(request: Request, errors: Errors, today: date) -> tuple[ReportRequest, dict[str, str]]:
    """The filters of the query string, checked: a value outside its list is an error on its field."""
    q = request.query_params
    values = {k: q.get(k, "")[:40].strip() for k in FILTERS}
    first, last = _days(values, errors, today)
    for name, allowed_values in (("channel", [c.value for c in Channel]), ("reason_category", CATEGORIES)):
        if values[name] and values[name] not in allowed_values:
            errors.put(name, Invalid("console.invalid_choice"))
            values[name] = ""
    req = ReportRequest(
        first=first,
        last=last,
        store_id=values["store_id"] or None,
        terminal_id=values["terminal_id"] or None,
        cashier_id=values["cashier_id"] or None,
        channel=values["channel"] or None,
        reason_category=values["reason_category"] or None,
    )
    values["from"], values["to"] = first.isoformat(), last.isoformat()
    return req, values


def query_string(values: dict[str, str], **more: str) -> str:
    """The filters (and ``more``) as a query string, for the links from a figure to its cases."""
    merged = {**{k: v for k, v in values.items() if v}, **more}
    return "&".join(f"{k}={v}" for k, v in merged.items() if v)


@router.get("/reports/charts")
async def charts(request: Request) -> Response:
    actor, c = allowed(request, "report.read")
    errors = Errors(lang_of(request))
    req, values = chart_request(request, errors, c.deps.local_date(c.deps.clock.now()))
    stores = await c.run(admin.list_stores, c.deps, actor)
    named = [(s["id"], s["name"]) for s in stores]
    data = await c.run(chart_figures, c.deps, actor, req, named)
    previous = Period(req.first, req.last).previous()
    return render(
        request,
        "report_charts.html",
        data=data,
        chart_json=_chart_json(data, values),
        values=values,
        stores=stores,
        channels=list(Channel),
        categories=CATEGORIES,
        previous=previous,
        qs=query_string(values),
        errors=errors,
    )


def _chart_json(data: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """What the chart script draws, with the address of the cases behind each day (and each store's day)."""
    drill = f"{PREFIX}/reports/drill?"
    return {
        "days": data["days"],
        "counts": data["counts"],
        "amounts_fen": data["amounts_fen"],
        "rates_pct": data["rates_pct"],
        "by_category": data["by_category"],
        "heat": data["heat"],
        "links": _day_links(drill, values, data),
        "store_links": {
            s["store_id"]: [
                drill + query_string({**values, "store_id": s["store_id"]}, by="day", key=d) for d in data["days"]
            ]
            for s in data["heat"]
        },
    }


def _day_links(drill: str, values: dict[str, str], data: dict[str, Any]) -> list[str]:
    return [drill + query_string(values, by="day", key=d) for d in data["days"]]


@router.get("/reports/drill")
async def drill(request: Request) -> Response:
    """The cases behind one figure: the chart's filters plus the day (or store, or category) it stands for."""
    actor, c = allowed(request, "report.read")
    errors = Errors(lang_of(request))
    req, values = chart_request(request, errors, c.deps.local_date(c.deps.clock.now()))
    key = request.query_params.get("key", "")[:40]
    by = By.STORE if request.query_params.get("by") == "store" else By.DAY
    if by is By.DAY:
        with errors.catch():
            fmt.parse_date(key, "key")
    page = page_number(request.query_params.get("page", ""), errors, last=10_000)
    found: list[ReportCase] = []
    total = 0
    if not errors.fields and not errors.form:
        found, total = await c.run(report_cases, c.deps, actor, _with_by(req, by), key, PAGE, (page - 1) * PAGE)
    return render(
        request,
        "report_drill.html",
        cases=found,
        total=total,
        key=key,
        by=by.value,
        values=values,
        back=query_string(values),
        link=f"{PREFIX}/reports/drill?{query_string(values, by=by.value, key=key)}&",
        **paging(page, total, PAGE),
        errors=errors,
    )


def _with_by(req: ReportRequest, by: By) -> ReportRequest:
    return replace(req, by=by)
