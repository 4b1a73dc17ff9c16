"""Running the rules over a window: each rule asks the store for its facts (one set-based query, grouped by its
subject) and turns each subject that passed its threshold into a finding with a severity and the evidence a
person needs to judge it. Nothing is written here: alerts (alerts.py) and back-tests (backtest.py) both use it."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from posrefund.domain.money import format_yuan
from posrefund.domain.policy import RefundPolicy
from posrefund.ports.risk import RiskFactsRepo, SubjectFacts, Window
from posrefund.service.risk.rules import BY_CODE, Settings
from posrefund.service.risk.stats import rate_noise, robust_z

LOW, MEDIUM, HIGH = "low", "medium", "high"
SEVERITIES = (LOW, MEDIUM, HIGH)
# Refunds that correct the cashier's own mistake: the same person naturally does them at once.
CORRECTIONS = ["wrong_amount", "duplicate_charge", "transaction_error"]
MINUTE = 60
DAY = 86_400


@dataclass(frozen=True)
class Finding:
    rule: str
    subject_kind: str
    subject_id: str
    severity: str
    measures: dict[str, Any]
    case_ids: tuple[str, ...] = ()
    cashiers: tuple[str, ...] = ()
    label: str = ""
    thresholds: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> list[str]:
        """One line in 中文 and one in English, with the numbers behind the alert."""
        rule = BY_CODE[self.rule]
        values = {**self.thresholds, **self.measures}
        return [text.format_map(defaultdict(str, values)) for text in rule.summary]

    def evidence(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "measures": self.measures,
            "thresholds": self.thresholds,
            "cashiers": list(self.cashiers),
            "label": self.label,
        }


@dataclass(frozen=True)
class Context:
    facts: RiskFactsRepo
    window: Window
    policy: RefundPolicy
    settings: Settings


def level(count: int, medium_at: float, high_at: float, low_at: float | None = None) -> str | None:
    """The severity of a count against its thresholds; None below all of them."""
    if count >= high_at:
        return HIGH
    if count >= medium_at:
        return MEDIUM
    if low_at is not None and count >= low_at:
        return LOW
    return None


def _finding(rule: str, kind: str, f: SubjectFacts, severity: str, s: dict[str, Any], **measures: Any) -> Finding:
    base = {"count": f.count, "amount_fen": f.amount_fen, "amount": format_yuan(f.amount_fen), "stores": f.stores}
    thresholds = {k: v for k, v in s.items() if k != "enabled"}
    return Finding(
        rule, kind, f.subject, severity, {**base, **measures}, f.case_ids, f.cashiers, f.label or f.subject, thresholds
    )


def own_sale(c: Context, s: dict[str, Any]) -> list[Finding]:
    """Refunds of one's own sales, against how often the store's other cashiers happen to refund their own (the
    customer comes back to whoever is at the counter): a binomial z-score of the count over that share."""
    gap = int(s["min_gap_minutes"]) * MINUTE
    found = c.facts.own_sales(c.window, int(s["min_count"]), CORRECTIONS, gap)
    if not found:
        return []
    shares = c.facts.own_shares(c.window, CORRECTIONS, gap)
    store = {p.cashier: p.store_id for p in c.facts.cashier_activity(c.window)}
    out = []
    for f in found:
        own, total = shares.get(f.subject, (f.count, f.count))
        peers = [v for who, v in shares.items() if who != f.subject and store.get(who) == store.get(f.subject)]
        if sum(t for _, t in peers) < 60:  # too few refunds in the store to know its share: the whole merchant
            peers = [v for who, v in shares.items() if who != f.subject]
        usual = max(0.05, min(0.95, sum(o for o, _ in peers) / max(1, sum(t for _, t in peers))))
        z = (own - total * usual) / math.sqrt(total * usual * (1 - usual))
        if z < s["z"]:
            continue
        severity = HIGH if f.amount_fen >= s["high_fen"] else MEDIUM
        measures = {"share_pct": own * 100 // max(1, total), "usual_pct": round(usual * 100, 1), "z": round(z, 2)}
        out.append(_finding("own_sale", "cashier", f, severity, s, **measures))
    return out


def payee_not_payer(c: Context, s: dict[str, Any]) -> list[Finding]:
    out = []
    for f in c.facts.paid_elsewhere(c.window):
        high = f.count >= s["high_count"] or f.amount_fen >= s["high_fen"]
        out.append(_finding("payee_not_payer", "cashier", f, HIGH if high else MEDIUM, s))
    return out


def near_limit(c: Context, s: dict[str, Any]) -> list[Finding]:
    """Refunds just under the policy's auto-approval or two-person limit, and sales refunded in split parts."""
    limits = sorted({c.policy.auto_approve_limit_fen, c.policy.two_person_limit_fen} - {0})
    near = {f.subject: f for f in c.facts.near_limits(c.window, limits, int(s["margin_pct"]), 1)}
    splits: dict[str, list[SubjectFacts]] = defaultdict(list)
    for sale in c.facts.split_sales(c.window, limits, int(s["split_within_minutes"]) * MINUTE):
        for cashier in sale.cashiers:
            splits[cashier].append(sale)
    out = []
    for cashier in sorted(set(near) | set(splits)):
        n = near[cashier].count if cashier in near else 0
        parts = splits.get(cashier, [])
        hits = (n >= s["min_count"]) + (len(parts) >= s["min_split_sales"])
        if not hits:
            continue
        severity = HIGH if hits == 2 or n >= 2 * s["min_count"] else MEDIUM
        cases = list(near[cashier].case_ids) if cashier in near else []
        cases += [case for sale in parts for case in sale.case_ids]
        measures = {"near": n, "split": len(parts), "limits_fen": limits, "count": n, "amount": ""}
        out.append(
            Finding(
                "near_limit",
                "cashier",
                cashier,
                severity,
                measures,
                tuple(dict.fromkeys(cases)),
                (cashier,),
                cashier,
                {k: v for k, v in s.items() if k != "enabled"},
            )
        )
    return out


def counted(
    rule: str, kind: str, find: Callable[[Context, dict[str, Any]], list[SubjectFacts]], low_at: int | None = None
) -> Callable[[Context, dict[str, Any]], list[Finding]]:
    """A rule that is a count per subject against ``min_count`` (medium) and ``high_count`` (high)."""

    def run(c: Context, s: dict[str, Any]) -> list[Finding]:
        out = []
        for f in find(c, s):
            severity = level(f.count, s["min_count"], s["high_count"], low_at)
            if severity is not None:
                out.append(_finding(rule, kind, f, severity, s))
        return out

    return run


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def after_hours(c: Context, s: dict[str, Any]) -> list[Finding]:
    opens, closes = int(s["open_minute"]), int(s["close_minute"])
    out = []
    for f in c.facts.outside_hours(c.window, opens, closes, 8 * 60):  # Asia/Shanghai has no summer time
        severity = level(f.count, s["min_count"], s["high_count"], 1)
        if severity is not None:
            out.append(_finding("after_hours", "cashier", f, severity, s, open=_hhmm(opens), close=_hhmm(closes)))
    return out


def velocity(c: Context, s: dict[str, Any]) -> list[Finding]:
    out = []
    for key, kind, count, within in (
        ("requester", "cashier", s["cashier_count"], s["within_minutes"]),
        ("terminal", "terminal", s["terminal_count"], s["within_minutes"]),
        ("card", "card", s["card_count"], s["card_within_minutes"]),
    ):
        for f in c.facts.bursts(c.window, key, int(count), int(within) * MINUTE):
            severity = HIGH if f.count >= 2 * count else MEDIUM
            out.append(_finding("velocity", kind, f, severity, s, within_minutes=within, threshold=count))
    return out


def many_stores(c: Context, s: dict[str, Any]) -> list[Finding]:
    out = []
    for key in ("phone", "card"):
        for f in c.facts.across_stores(c.window, key, int(s["min_stores"])):
            out.append(_finding("many_stores", key, f, HIGH if f.stores >= s["high_stores"] else MEDIUM, s))
    return out


def refund_rate(c: Context, s: dict[str, Any]) -> list[Finding]:
    """Each cashier's refunds per sale against the store's peers (robust z); new cashiers on a shorter leash."""
    people = [p for p in c.facts.cashier_activity(c.window) if p.sales >= s["min_sales"]]
    by_store: dict[str, list[float]] = defaultdict(list)
    for p in people:
        by_store[p.store_id].append(p.refunds / p.sales)
    everyone = [p.refunds / p.sales for p in people]
    out = []
    for p in people:
        peers = by_store[p.store_id] if len(by_store[p.store_id]) >= s["min_peers"] else everyone
        if len(peers) < 2:
            continue
        rate = p.refunds / p.sales
        new = p.joined_at is not None and (c.window.end - p.joined_at).days < s["new_days"]
        threshold, least = (s["new_z"], s["new_min_refunds"]) if new else (s["z"], s["min_refunds"])
        z, mid = robust_z(rate, peers, rate_noise(sorted(peers)[len(peers) // 2], p.sales))
        if p.refunds < least or z < threshold:
            continue
        measures = {
            "rate_pct": round(rate * 100, 2),
            "median_pct": round(mid * 100, 2),
            "z": round(z, 2),
            "threshold": threshold,
            "new_cashier": new,
            "sales": p.sales,
            "count": p.refunds,
            "amount": format_yuan(p.refund_fen),
            "store_id": p.store_id,
        }
        severity = HIGH if z >= 2 * threshold else MEDIUM
        thresholds = {k: v for k, v in s.items() if k != "enabled"}
        out.append(
            Finding("refund_rate", "cashier", p.cashier, severity, measures, (), (p.cashier,), p.cashier, thresholds)
        )
    return out


RUNNERS: dict[str, Callable[[Context, dict[str, Any]], list[Finding]]] = {
    "own_sale": own_sale,
    "payee_not_payer": payee_not_payer,
    "near_limit": near_limit,
    "cash_for_electronic": counted(
        "cash_for_electronic", "cashier", lambda c, s: c.facts.cash_for_electronic(c.window), low_at=1
    ),
    "quick_refund": counted(
        "quick_refund",
        "cashier",
        lambda c, s: c.facts.soon_after_sale(
            c.window, int(s["within_minutes"]) * MINUTE, CORRECTIONS, int(s["min_count"])
        ),
    ),
    "after_hours": after_hours,
    "velocity": velocity,
    "many_stores": many_stores,
    "round_cycles": counted(
        "round_cycles",
        "card",
        lambda c, s: c.facts.round_cycles(
            c.window, int(s["unit_fen"]), int(s["min_fen"]), int(s["within_days"]) * DAY, int(s["min_count"])
        ),
    ),
    "repeat_wrong_charge": counted(
        "repeat_wrong_charge", "cashier", lambda c, s: c.facts.wrong_charges(c.window, CORRECTIONS, int(s["min_count"]))
    ),
    "failing_terminal": counted(
        "failing_terminal", "terminal", lambda c, s: c.facts.failing_terminals(c.window, int(s["min_count"]))
    ),
    "refund_rate": refund_rate,
}


def evaluate(c: Context, only: set[str] | None = None) -> list[Finding]:
    """Every enabled rule's findings over the window, highest severity first."""
    out: list[Finding] = []
    for code, run in RUNNERS.items():
        if c.settings[code]["enabled"] and (only is None or code in only):
            out.extend(run(c, c.settings[code]))
    rank = {HIGH: 0, MEDIUM: 1, LOW: 2}
    return sorted(out, key=lambda f: (rank[f.severity], f.rule, f.subject_kind, f.subject_id))
