"""The refund-cause summary (退款原因周报 / 月报) of a merchant's stores for one week or month: the top causes
with their change against the previous period (from the reports' daily aggregates: ``reports.figures``), per
store and in all; the notable cases (the largest, the slowest to pay, the failed or abnormal); what is still
open (cases, bank applications past their deadline); and the prevention the rules of ``domain/cause_rules``
suggest from where each cause happened (a terminal, a store)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from posrefund.domain.cause_rules import REASON_ZH, Suggestion, change, growing, suggestions
from posrefund.domain.errors import Invalid
from posrefund.domain.reports import By, Period, days_of_key
from posrefund.domain.roles import Actor, Role
from posrefund.ports import UnitOfWork
from posrefund.ports.documents import NOTABLE, BankApplicationRow, SummaryCase
from posrefund.service.deps import Deps
from posrefund.service.reports import upkeep
from posrefund.service.reports.figures import ReportRequest, refund_report

_MONTH = re.compile(r"\d{4}-\d{2}")
_WEEK = re.compile(r"\d{4}-\d{2}-\d{2}")
NOTABLE_LIMIT = 5
OPEN_LIMIT = 10


def period_of(key: str) -> tuple[str, Period]:
    """``2026-11`` → a month; ``2026-11-23`` (a Monday) → that ISO week."""
    by = By.MONTH if _MONTH.fullmatch(key) else By.WEEK if _WEEK.fullmatch(key) else None
    if by is None:
        raise Invalid("summary.bad_period", period=key[:20])
    try:
        days = days_of_key(key, by)
    except Invalid:
        raise Invalid("summary.bad_period", period=key[:20]) from None
    return ("monthly" if by is By.MONTH else "weekly"), days


@dataclass(frozen=True, slots=True)
class Cause:
    reason: str
    label: str
    refunds: int
    amount_fen: int
    previous: int
    change: float | None
    growing: bool


@dataclass(frozen=True, slots=True)
class Section:
    """One store's (or all the chosen stores') figures and causes."""

    store_id: str
    name: str
    refunds: int
    amount_fen: int
    previous_refunds: int
    previous_amount_fen: int
    paid: int
    rate_count: float | None
    causes: tuple[Cause, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    merchant_id: str
    merchant_name: str
    period_key: str
    cadence: str
    period: Period
    previous: Period
    total: Section
    stores: tuple[Section, ...]
    notable: dict[str, list[SummaryCase]]
    open_cases: list[SummaryCase]
    overdue_applications: list[BankApplicationRow]
    advice: list[Suggestion]
    names: dict[str, str] = field(default_factory=dict)  # store and terminal ids → names / numbers
    pending_days: tuple[date, ...] = ()


def _section(report: dict[str, Any], store_id: str, name: str) -> Section:
    causes = []
    for row in report["rows"]:
        now, before = row["figures"]["refunds"], row["previous"]["refunds"]
        label = REASON_ZH.get(row["key"], row["key"])
        causes.append(
            Cause(
                row["key"], label, now, row["figures"]["amount_fen"], before, change(now, before), growing(now, before)
            )
        )
    total, prev = report["total"], report["previous_total"]
    return Section(
        store_id,
        name,
        total["refunds"],
        total["amount_fen"],
        prev["refunds"],
        prev["amount_fen"],
        total["paid"],
        total["rate_count"],
        tuple(causes),
    )


def _reader(merchant_id: str) -> Actor:
    """The summary is the merchant's own figures, read on its behalf (by the worker too)."""
    return Actor(id="system", role=Role.FINANCE, merchant_id=merchant_id, name="posrefund")


def _advice(uow: UnitOfWork, merchant_id: str, stores: tuple[str, ...], period: Period) -> list[Suggestion]:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for store, terminal, reason, n in uow.summaries.reason_counts(merchant_id, stores, period):
        counts[("terminal", terminal)][reason] += n
        counts[("store", store)][reason] += n
    return suggestions(counts)


def build(deps: Deps, merchant_id: str, key: str, store_ids: tuple[str, ...] = ()) -> Summary:
    """The summary of ``key`` for the chosen stores (none: every store). No permission check: callers check."""
    cadence, period = period_of(key)
    upkeep.catch_up_merchant(deps, merchant_id)
    reader = _reader(merchant_id)
    with deps.uow(readonly=True) as uow:
        merchant = uow.merchants.get_merchant(merchant_id)
        all_stores = {s["id"]: s["name"] for s in uow.merchants.list_stores(merchant_id)}
    chosen = tuple(s for s in store_ids if s in all_stores) if store_ids else tuple(all_stores)
    sections = []
    for store in chosen:
        report = refund_report(deps, reader, ReportRequest(period.first, period.last, By.REASON, store_id=store))
        sections.append(_section(report, store, all_stores[store]))
    whole = refund_report(deps, reader, ReportRequest(period.first, period.last, By.REASON))
    total = _section(whole, "", "全部门店") if not store_ids else _combined(sections)
    scope = (chosen or ("",)) if store_ids else ()  # stores asked for that are not the merchant's match nothing
    with deps.uow(readonly=True) as uow:
        notable = {kind: uow.summaries.notable(merchant_id, scope, period, kind, NOTABLE_LIMIT) for kind in NOTABLE}
        advice = _advice(uow, merchant_id, scope, period)
        overdue = uow.bank_applications.overdue(merchant_id, deps.local_date(deps.clock.now()), OPEN_LIMIT)
        terminals = {c.terminal_id for cases in notable.values() for c in cases} | {
            s.place_id for s in advice if s.place == "terminal"
        }
        names = {**all_stores, **uow.reports.names(merchant_id, By.TERMINAL, sorted(terminals))}
    return Summary(
        merchant_id=merchant_id,
        merchant_name=merchant["name"] if merchant else merchant_id,
        period_key=key,
        cadence=cadence,
        period=period,
        previous=period.previous(),  # the reports compare with the same number of days just before
        total=total,
        stores=tuple(sections),
        notable={k: v for k, v in notable.items() if k != "open"},
        open_cases=notable["open"],
        overdue_applications=overdue,
        advice=advice,
        names=names,
        pending_days=tuple(whole["pending_days"]),
    )


def _combined(sections: list[Section]) -> Section:
    """The chosen stores together: their causes added up."""
    by_reason: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in sections:
        for c in s.causes:
            acc = by_reason[c.reason]
            acc[0], acc[1], acc[2] = acc[0] + c.refunds, acc[1] + c.amount_fen, acc[2] + c.previous
    causes = sorted(
        (
            Cause(r, REASON_ZH.get(r, r), n, fen, before, change(n, before), growing(n, before))
            for r, (n, fen, before) in by_reason.items()
        ),
        key=lambda c: (-c.refunds, c.reason),
    )
    return Section(
        "",
        "所选门店",
        sum(s.refunds for s in sections),
        sum(s.amount_fen for s in sections),
        sum(s.previous_refunds for s in sections),
        sum(s.previous_amount_fen for s in sections),
        sum(s.paid for s in sections),
        None,
        tuple(causes),
    )


def cause_summary(deps: Deps, actor: Actor, key: str, store_ids: tuple[str, ...] = ()) -> Summary:
    """For a reader of the reports: their own merchant's summary."""
    actor.require("report.read")
    return build(deps, actor.merchant_id or "", key, store_ids)
