"""The refund report of a period: rows by time or by one dimension of the cases, each with its figures (counts,
amounts, refund rates, shares, time to money) and, for dimensions, the same row of the previous period of the
same length; the wrong charges and disputes of the period beside them; and the cases behind any one row.

A report reads the aggregates as the last rebuild left them (the worker rebuilds changed days every minute; a
rebuild of a busy day takes seconds, which a reader should not wait for) and names the days still waiting for
theirs (``pending_days``); ``raw`` reads the cases themselves, always current."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from posrefund.domain.reports import (
    REASON_CATEGORY,
    SALES_SHARE,
    TIME,
    By,
    Period,
    Tally,
    days_of_key,
    fold,
    percentile_bound,
    ratio,
    time_key,
)
from posrefund.domain.roles import Actor
from posrefund.ports import ReportCase, ReportScope, UnitOfWork
from posrefund.service.deps import Deps

Sales = tuple[int, int]
NAMED = frozenset({By.STORE, By.TERMINAL, By.CASHIER})


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What a reader asks: local days ``first``..``last``, rows ``by``, and filters (None: any)."""

    first: date
    last: date
    by: By = By.DAY
    currency: str = "CNY"
    store_id: str | None = None
    channel: str | None = None
    terminal_id: str | None = None
    cashier_id: str | None = None
    reason: str | None = None
    reason_category: str | None = None
    route: str | None = None
    outcome: str | None = None
    raw: bool = False  # read the cases and sales themselves instead of the daily aggregates


def scope_of(actor: Actor, req: ReportRequest) -> ReportScope:
    """The reader's own merchant, always: another merchant's stores or cashiers simply match nothing."""
    reasons: tuple[str, ...] | None = None
    if req.reason is not None:
        reasons = (req.reason,)
    if req.reason_category is not None:
        in_category = tuple(r for r, c in REASON_CATEGORY.items() if c == req.reason_category)
        reasons = tuple(r for r in in_category if reasons is None or r in reasons)
    return ReportScope(
        merchant_id=actor.merchant_id or "",
        period=Period.checked(req.first, req.last),
        currency=req.currency,
        store_id=req.store_id,
        channel=req.channel,
        terminal_id=req.terminal_id,
        cashier_id=req.cashier_id,
        reasons=reasons,
        route=req.route,
        statuses=None if req.outcome is None else (req.outcome,),
    )


def figures(cell: Tally, sales: Sales) -> dict[str, Any]:
    """One cell as the API and the exports show it (amounts in fen; shares as fractions; seconds)."""
    in_progress = cell.refunds - cell.paid - cell.failed - cell.abnormal - cell.refused
    in_progress_fen = cell.amount_fen - cell.paid_fen - cell.failed_fen - cell.abnormal_fen - cell.refused_fen
    return {
        "refunds": cell.refunds,
        "amount_fen": cell.amount_fen,
        "paid": cell.paid,
        "paid_fen": cell.paid_fen,
        "failed": cell.failed,
        "failed_fen": cell.failed_fen,
        "abnormal": cell.abnormal,
        "abnormal_fen": cell.abnormal_fen,
        "refused": cell.refused,
        "refused_fen": cell.refused_fen,
        "in_progress": in_progress,
        "in_progress_fen": in_progress_fen,
        "sales": sales[0],
        "sales_fen": sales[1],
        "rate_count": ratio(cell.refunds, sales[0]),
        "rate_amount": ratio(cell.amount_fen, sales[1]),
        "paid_rate_amount": ratio(cell.paid_fen, sales[1]),
        "failed_share": ratio(cell.failed, cell.refunds),
        "abnormal_share": ratio(cell.abnormal, cell.refunds),
        "wait_p50_seconds": percentile_bound(cell.waits, 50),
        "wait_p90_seconds": percentile_bound(cell.waits, 90),
    }


def _stored(by: By) -> By:
    """The grouping the repository reads for a row kind (weeks and months from days, categories from reasons)."""
    return By.DAY if by in TIME else By.REASON if by is By.REASON_CATEGORY else by


def _folded(cells: dict[str, Any], by: By) -> dict[str, Any]:
    if by in (By.WEEK, By.MONTH):
        return fold(cells, {k: time_key(date.fromisoformat(k), by) for k in cells})
    if by is By.REASON_CATEGORY:
        return fold(cells, {k: REASON_CATEGORY.get(k, "other") for k in cells})
    return cells


def _fold_sales(cells: dict[str, Sales], by: By) -> dict[str, Sales]:
    out: dict[str, Sales] = {}
    for key, (n, fen) in cells.items():
        target = time_key(date.fromisoformat(key), by) if by in (By.WEEK, By.MONTH) else key
        have = out.get(target, (0, 0))
        out[target] = (have[0] + n, have[1] + fen)
    return out


@dataclass(slots=True)
class _Read:
    rows: dict[str, Tally]
    sales: dict[str, Sales]
    total: Tally
    total_sales: Sales


def _read(uow: UnitOfWork, scope: ReportScope, by: By, raw: bool) -> _Read:
    rows = _folded(uow.reports.refund_cells(scope, _stored(by), raw=raw), by)
    total = Tally()
    for cell in rows.values():
        total.add(cell)
    sales: dict[str, Sales] = {}
    if by in SALES_SHARE:
        sales = _fold_sales(uow.reports.sale_cells(scope, _stored(by), raw=raw), by)
    total_sales = uow.reports.sale_cells(scope, None, raw=raw).get("", (0, 0))
    return _Read(rows, sales, total, total_sales)


def _row_figures(read: _Read, key: str, by: By) -> dict[str, Any]:
    """A row's figures; its refund rate divides by the sales of the same day, store, terminal or channel, or
    (reasons, cashiers, routes, outcomes: dimensions sales do not have) by all the sales in the scope."""
    sales = read.sales.get(key, (0, 0)) if by in SALES_SHARE else read.total_sales
    return figures(read.rows.get(key, Tally()), sales)


def _time_keys(period: Period, by: By) -> list[str]:
    keys = (time_key(period.first + timedelta(days=n), by) for n in range(period.days))
    return list(dict.fromkeys(keys))


def refund_report(deps: Deps, actor: Actor, req: ReportRequest) -> dict[str, Any]:
    actor.require("report.read")
    scope = scope_of(actor, req)
    before = replace(scope, period=scope.period.previous())
    with deps.uow(readonly=True) as uow:
        now, then = _read(uow, scope, req.by, req.raw), _read(uow, before, req.by, req.raw)
        side = uow.reports.side_figures(scope.merchant_id, scope.period)
        pending = [] if req.raw else uow.reports.pending_days(scope.merchant_id, before.period.first, scope.period.last)
        names = uow.reports.names(scope.merchant_id, req.by, list(now.rows)) if req.by in NAMED else {}
    rows = []
    if req.by in TIME:
        keys = _time_keys(scope.period, req.by)
    else:
        keys = sorted(now.rows, key=lambda k: (-now.rows[k].refunds, k))
    for key in keys:
        row = {"key": key, "name": names.get(key, ""), "figures": _row_figures(now, key, req.by)}
        if req.by not in TIME:
            row["previous"] = _row_figures(then, key, req.by)
        rows.append(row)
    return {
        "period": {"from": scope.period.first, "to": scope.period.last, "days": scope.period.days},
        "previous_period": {"from": before.period.first, "to": before.period.last},
        "by": req.by.value,
        "currency": scope.currency,
        "source": "cases" if req.raw or scope.needs_cases else "aggregates",
        "pending_days": pending if not scope.needs_cases else [],
        "rows": rows,
        "total": figures(now.total, now.total_sales),
        "previous_total": figures(then.total, then.total_sales),
        "wrong_charges": side.wrong_charges,
        "disputes": {"by_status": side.disputes, "claimed_fen": side.disputed_fen},
    }


def narrowed(scope: ReportScope, by: By, key: str) -> ReportScope | None:
    """The scope of one row: its filters plus the row's own value; None when they exclude each other."""
    if by in TIME:
        days = days_of_key(key, by)
        first, last = max(days.first, scope.period.first), min(days.last, scope.period.last)
        return replace(scope, period=Period(first, last)) if first <= last else None
    pairs: dict[By, tuple[str, Any]] = {
        By.STORE: ("store_id", key),
        By.CHANNEL: ("channel", key),
        By.TERMINAL: ("terminal_id", key),
        By.CASHIER: ("cashier_id", key),
        By.ROUTE: ("route", key),
        By.REASON: ("reasons", (key,)),
        By.REASON_CATEGORY: ("reasons", tuple(r for r, c in REASON_CATEGORY.items() if c == key)),
        By.OUTCOME: ("statuses", (key,)),
    }
    field, value = pairs[by]
    have = getattr(scope, field)
    if isinstance(value, tuple) and have is not None:
        value = tuple(v for v in value if v in have)
    elif have is not None and have != value:
        return None
    return replace(scope, **{field: value})


def report_cases(
    deps: Deps, actor: Actor, req: ReportRequest, key: str, limit: int, offset: int
) -> tuple[list[ReportCase], int]:
    """The cases counted in one row of the report (requested in its days, through its filters), oldest first."""
    actor.require("report.read")
    scope = narrowed(scope_of(actor, req), req.by, key)
    if scope is None:
        return [], 0
    with deps.uow(readonly=True) as uow:
        return uow.reports.cases(scope, limit, offset)
