"""The first page after sign-in: what is waiting for this person, by role, in plain words — a cashier's refunds
of today and those still open; a supervisor's review queue and the refunds held for a second review; finance's
money still in flight and what reconciliation left open; the risk officer's open alerts by severity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from posrefund.domain.roles import Actor
from posrefund.entrypoints.api.context import AppContext
from posrefund.entrypoints.console import fmt
from posrefund.entrypoints.console.web import PREFIX, ConsoleRoute, actor_of, ctx_of, may, render
from posrefund.ports import RefundQuery
from posrefund.ports.risk import AlertQuery
from posrefund.service import refunds
from posrefund.service.reconciliation.discrepancies import list_discrepancies
from posrefund.service.reconciliation.lists import list_runs
from posrefund.service.reports.figures import ReportRequest, refund_report
from posrefund.service.risk import alerts, holds
from posrefund.service.risk.evaluate import SEVERITIES

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
OPEN = ("pending_review", "approved", "processing", "failed", "abnormal", "unknown")
IN_FLIGHT_DAYS = 30


async def _mine(c: AppContext, actor: Actor) -> dict[str, Any]:
    today = c.deps.local_date(c.deps.clock.now())
    query = RefundQuery(requested_by=actor.id, created_from=fmt.day_start(today), limit=200)
    views, total = await c.run(refunds.page_cases, c.deps, actor, query, count=True)
    week = RefundQuery(requested_by=actor.id, created_from=fmt.day_start(today - timedelta(days=7)), limit=200)
    recent, _ = await c.run(refunds.page_cases, c.deps, actor, week, count=False)
    waiting = [v for v in recent if v.case.status.value in OPEN][:10]
    return {"today": total or 0, "today_fen": sum(v.case.amount_fen for v in views), "waiting": waiting}


async def _review(c: AppContext, actor: Actor) -> dict[str, Any]:
    queue, total = await c.run(refunds.pending_review, c.deps, actor, 5)
    held = await c.run(holds.held_cases, c.deps, actor) if may(actor, "refund.release_hold") else []
    return {"queue": queue, "total": total, "held": held}


async def _money(c: AppContext, actor: Actor) -> dict[str, Any]:
    today = c.deps.local_date(c.deps.clock.now())
    req = ReportRequest(first=today - timedelta(days=IN_FLIGHT_DAYS - 1), last=today)
    total = (await c.run(refund_report, c.deps, actor, req))["total"]
    runs, _ = await c.run(list_runs, c.deps, actor, 1)
    unreconciled = None
    if runs:
        _rows, unreconciled = await c.run(list_discrepancies, c.deps, actor, runs[0]["id"], None, 1)
    return {"figures": total, "unreconciled": unreconciled, "run": runs[0] if runs else None}


async def _risk(c: AppContext, actor: Actor) -> dict[str, Any]:
    counts = {}
    for severity in SEVERITIES[::-1]:
        n = 0
        for status in ("new", "investigating"):
            _items, found = await c.run(
                alerts.list_alerts, c.deps, actor, AlertQuery(status=status, severity=severity, limit=1)
            )
            n += found
        counts[severity] = n
    return {"open": counts}


@router.get("/home")
async def home(request: Request) -> Response:
    actor, c = actor_of(request), ctx_of(request)
    blocks: dict[str, Any] = {}
    if may(actor, "refund.request") and actor.terminal_id is None:
        blocks["mine"] = await _mine(c, actor)
    if may(actor, "refund.review"):
        blocks["review"] = await _review(c, actor)
    if may(actor, "recon.read") and may(actor, "report.read") and actor.role.value != "risk":
        blocks["money"] = await _money(c, actor)
    if may(actor, "risk.read"):
        blocks["risk"] = await _risk(c, actor)
        if may(actor, "refund.release_hold") and "review" not in blocks:
            blocks["held"] = await c.run(holds.held_cases, c.deps, actor)
    return render(request, "home.html", blocks=blocks, days=IN_FLIGHT_DAYS)
