"""What the console's report charts draw, read from the same daily aggregates as the report itself: the trend by
day (count, amount, refund rate), the same days split by the reason's category, and each store by day (a heat
table); with the previous period's totals beside. Every figure keeps the filters that make it, so a person can
open the cases behind it (``report_cases`` with the same request and the row's key)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from posrefund.domain.reports import REASON_CATEGORY, By
from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps
from posrefund.service.reports.figures import ReportRequest, refund_report

CATEGORIES = tuple(dict.fromkeys(REASON_CATEGORY.values()))
MAX_STORES = 20  # a heat table wider than this is read as a list: the report by store says the rest


def _series(report: dict[str, Any], name: str) -> list[Any]:
    return [row["figures"][name] for row in report["rows"]]


def chart_figures(deps: Deps, actor: Actor, req: ReportRequest, stores: list[tuple[str, str]]) -> dict[str, Any]:
    """The trend, the categories and the store heat table of ``req``'s period (``req.by`` is taken as days)."""
    req = replace(req, by=By.DAY)
    trend = refund_report(deps, actor, req)
    days = [row["key"] for row in trend["rows"]]
    rates = [None if r is None else round(r * 100, 2) for r in _series(trend, "rate_count")]
    by_category = {}
    for category in CATEGORIES:
        if req.reason_category in (None, category):
            part = refund_report(deps, actor, replace(req, reason_category=category))
            by_category[category] = _series(part, "refunds")
    heat = []
    for store_id, name in stores[:MAX_STORES]:
        if req.store_id in (None, store_id):
            part = refund_report(deps, actor, replace(req, store_id=store_id))
            heat.append({"store_id": store_id, "name": name, "counts": _series(part, "refunds")})
    return {
        "days": days,
        "counts": _series(trend, "refunds"),
        "amounts_fen": _series(trend, "amount_fen"),
        "rates_pct": rates,
        "by_category": by_category,
        "heat": heat,
        "total": trend["total"],
        "previous_total": trend["previous_total"],
        "previous_period": trend["previous_period"],
        "pending_days": trend["pending_days"],
    }
