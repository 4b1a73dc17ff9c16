"""The risk picture of a month, answered from what is already kept: the alerts the scheduled scans raised (each
scan runs the rules once and stores what they found) counted by rule, severity and status, and each cashier's
refunds and refund rate from the report's daily aggregates. Running the twelve rules over a month of a large
merchant takes far longer than a person waits (bench/reports.py --risk measures both); this view never does."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from posrefund.domain.card_method import SHANGHAI
from posrefund.domain.reports import By, Period
from posrefund.domain.roles import Actor
from posrefund.service.deps import Deps
from posrefund.service.reports.figures import ReportRequest, refund_report

TOP_CASHIERS = 20


def month_view(deps: Deps, actor: Actor, first: date, last: date) -> dict[str, Any]:
    """Alerts of the period by rule (severity × status), and the cashiers with the highest refund counts."""
    actor.require("risk.read")
    period = Period.checked(first, last)
    start = datetime.combine(period.first, time(0), SHANGHAI)
    end = datetime.combine(period.last + timedelta(days=1), time(0), SHANGHAI)
    with deps.uow(readonly=True) as uow:
        counts = uow.risk.alert_counts(actor.merchant_id or "", start, end)
    rules: dict[str, dict[str, Any]] = defaultdict(lambda: {"severity": defaultdict(int), "status": defaultdict(int)})
    for rule, severity, status, n in counts:
        rules[rule]["severity"][severity] += n
        rules[rule]["status"][status] += n
    report = refund_report(deps, actor, ReportRequest(first=first, last=last, by=By.CASHIER))
    cashiers = [
        {"cashier": row["key"], "name": row["name"], "refunds": row["figures"]["refunds"],
         "amount_fen": row["figures"]["amount_fen"], "previous": row["previous"]["refunds"]}
        for row in report["rows"][:TOP_CASHIERS]
    ]  # fmt: skip
    return {
        "from": first,
        "to": last,
        "alerts": {r: {k: dict(v) for k, v in parts.items()} for r, parts in rules.items()},
        "cashiers": cashiers,
        "source": report["source"],
    }
