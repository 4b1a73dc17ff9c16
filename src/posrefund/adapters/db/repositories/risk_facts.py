"""The facts behind the risk rules: one set-based query a rule over a window of refunds, grouped by the rule's
subject with ``HAVING`` its threshold, then one query for the cases of the subjects that passed. Nothing here
walks refunds one by one in Python; times are compared as epoch seconds so SQLite and PostgreSQL agree."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    distinct,
    extract,
    func,
    literal_column,
    or_,
    select,
)

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository
from posrefund.ports.risk import CashierActivity, SubjectFacts, Window

R = tables.refunds.c
S = tables.sales.c
_IN_CHUNK = 500
_CANDIDATE = ("case_id", "subject", "label", "amount_fen", "store_id", "created_at", "requested_by")
_FAILED = ("failed", "abnormal")
_OFFLINE_METHODS = ("cash", "transfer")
_OFFLINE_SALES = ("cash", "cheque")


class RiskFactsSql(Repository):
    def _epoch(self, col: Any) -> ColumnElement[int]:
        """Seconds since 1970 of an aware timestamp column, on either database."""
        if self.c.dialect.name == "sqlite":
            return cast((func.julianday(col) - 2440587.5) * 86400.0, BigInteger)
        return cast(extract("epoch", col), BigInteger)

    def _key(self, key: str) -> tuple[Any, Any]:
        """The column a rule groups by, and the label people read for it."""
        columns = {
            "requester": (R.requested_by, R.requested_by),
            "seller": (S.sold_by, S.sold_by),
            "terminal": (R.terminal_id, R.terminal_id),
            "card": (S.payer_masked, S.payer_masked),
            "phone": (R.customer_phone_index, R.customer_phone_masked),
        }
        return columns[key]

    def _candidates(self, w: Window, key: str, *conds: Any) -> Select[Any]:
        """The refunds of the window that meet a rule's own test, each with the subject it is counted under."""
        subject, label = self._key(key)
        return (
            select(
                R.id.label("case_id"),
                subject.label("subject"),
                label.label("label"),
                R.amount_fen,
                R.store_id,
                R.created_at,
                R.requested_by,
            )
            .select_from(tables.refunds.join(tables.sales, S.id == R.sale_id))
            .where(
                R.merchant_id == w.merchant_id,
                R.created_at >= w.start,
                R.created_at < w.end,
                subject.is_not(None),
                subject != "",
                *conds,
            )
        )

    def _group(self, cand: Select[Any], min_count: int = 1, min_stores: int = 1) -> list[SubjectFacts]:
        """Group the candidates by subject, keep those over the thresholds, then read their cases: two queries
        over the candidates (a CTE), whatever the number of subjects found."""
        sub = cand.cte("candidates")
        count = func.count()
        stores = func.count(distinct(sub.c.store_id))
        agg = (
            select(
                sub.c.subject,
                count.label("n"),
                func.sum(sub.c.amount_fen).label("fen"),
                stores.label("stores"),
                func.min(sub.c.created_at).label("first_at"),
                func.max(sub.c.created_at).label("last_at"),
                func.max(sub.c.label).label("label"),
            )
            .group_by(sub.c.subject)
            .having(count >= min_count, stores >= min_stores)
        )
        found = {r.subject: r for r in self.c.execute(agg)}
        if not found:
            return []
        cases: dict[str, dict[str, None]] = defaultdict(dict)  # insertion-ordered: oldest case first
        cashiers: dict[str, set[str]] = defaultdict(set)
        passed = select(agg.subquery().c.subject)
        q = select(sub.c.subject, sub.c.case_id, sub.c.requested_by).where(sub.c.subject.in_(passed))
        for r in self.c.execute(q.order_by(sub.c.created_at, sub.c.case_id)):
            cases[r.subject][r.case_id] = None
            cashiers[r.subject].add(r.requested_by)
        return [
            SubjectFacts(
                subject=str(s),
                count=int(r.n),
                amount_fen=int(r.fen or 0),
                stores=int(r.stores),
                first_at=r.first_at,
                last_at=r.last_at,
                case_ids=tuple(cases[s]),
                cashiers=tuple(sorted(cashiers[s])),
                label=str(r.label or ""),
            )
            for s, r in sorted(found.items())
        ]

    def own_sales(self, w: Window, min_count: int, skip_reasons: list[str], min_gap_seconds: int) -> list[SubjectFacts]:
        gap = self._epoch(R.created_at) - self._epoch(S.paid_at)
        cond = and_(S.sold_by == R.requested_by, R.reason.not_in(skip_reasons), gap > min_gap_seconds)
        return self._group(self._candidates(w, "requester", cond), min_count)

    def own_shares(self, w: Window, skip_reasons: list[str], min_gap_seconds: int) -> dict[str, tuple[int, int]]:
        """Per requester: refunds of their own sales (by the same test as ``own_sales``) and all their refunds,
        corrections left out."""
        gap = self._epoch(R.created_at) - self._epoch(S.paid_at)
        own = case((and_(S.sold_by == R.requested_by, gap > min_gap_seconds), 1), else_=0)
        q = (
            self._candidates(w, "requester", R.reason.not_in(skip_reasons))
            .with_only_columns(R.requested_by, func.sum(own), func.count())
            .group_by(R.requested_by)
        )
        return {str(who): (int(n_own or 0), int(n)) for who, n_own, n in self.c.execute(q)}

    def paid_elsewhere(self, w: Window) -> list[SubjectFacts]:
        cond = and_(R.payee_masked != "", R.payee_masked != S.payer_masked)
        return self._group(self._candidates(w, "requester", cond))

    def near_limits(self, w: Window, limits: list[int], margin_pct: int, min_count: int) -> list[SubjectFacts]:
        bands = [and_(R.amount_fen > lim - lim * margin_pct // 100, R.amount_fen <= lim) for lim in limits if lim > 0]
        if not bands:
            return []
        return self._group(self._candidates(w, "requester", or_(*bands)), min_count)

    def split_sales(self, w: Window, limits: list[int], within_seconds: int) -> list[SubjectFacts]:
        """Sales refunded in two or more parts, each within a limit and together over it, close together."""
        limits = [lim for lim in limits if lim > 0]
        if not limits:
            return []
        t = self._epoch(R.created_at)
        per_sale = (
            select(R.sale_id)
            .where(R.merchant_id == w.merchant_id, R.created_at >= w.start, R.created_at < w.end)
            .group_by(R.sale_id)
            .having(
                func.count() >= 2,
                func.max(t) - func.min(t) <= within_seconds,
                or_(*(and_(func.max(R.amount_fen) <= lim, func.sum(R.amount_fen) > lim) for lim in limits)),
            )
        )
        cand = self._candidates(w, "requester", R.sale_id.in_(per_sale)).with_only_columns(
            R.id.label("case_id"),
            R.sale_id.label("subject"),
            R.sale_id.label("label"),
            R.amount_fen,
            R.store_id,
            R.created_at,
            R.requested_by,
        )
        return self._group(cand, 2)

    def cash_for_electronic(self, w: Window) -> list[SubjectFacts]:
        cond = and_(R.method.in_(_OFFLINE_METHODS), S.channel.not_in(_OFFLINE_SALES))
        return self._group(self._candidates(w, "requester", cond))

    def soon_after_sale(
        self, w: Window, within_seconds: int, skip_reasons: list[str], min_count: int
    ) -> list[SubjectFacts]:
        gap = self._epoch(R.created_at) - self._epoch(S.paid_at)
        cond = and_(gap <= within_seconds, R.reason.not_in(skip_reasons))
        return self._group(self._candidates(w, "requester", cond), min_count)

    def outside_hours(
        self, w: Window, open_minute: int, close_minute: int, utc_offset_minutes: int
    ) -> list[SubjectFacts]:
        """Refunds whose local time of day is before opening or at/after closing."""
        minute = (self._epoch(R.created_at) + utc_offset_minutes * 60) % 86_400 // 60
        return self._group(self._candidates(w, "requester", or_(minute < open_minute, minute >= close_minute)))

    def bursts(self, w: Window, key: str, count: int, within_seconds: int) -> list[SubjectFacts]:
        """Subjects with ``count`` refunds inside ``within_seconds``. A refund ends such a burst when the one
        ``count - 1`` places before it (same subject, by time) is close enough; every refund of a burst is then
        found as one with a burst's end among the ``count - 1`` refunds after it."""
        subject, _ = self._key(key)
        t = self._epoch(R.created_at)
        back = literal_column(str(max(1, count - 1)), BigInteger)
        ends = (
            self._candidates(w, key)
            .add_columns(
                t.label("t"), func.lag(t, back).over(partition_by=subject, order_by=(t, R.id)).label("t_before")
            )
            .subquery()
        )
        is_end = case((ends.c.t - ends.c.t_before <= within_seconds, 1), else_=0)
        in_burst = func.max(is_end).over(
            partition_by=ends.c.subject, order_by=(ends.c.t, ends.c.case_id), rows=(0, max(1, count - 1))
        )
        marked = select(*(ends.c[name] for name in _CANDIDATE), in_burst.label("in_burst")).subquery()
        cand = select(*(marked.c[name] for name in _CANDIDATE)).where(marked.c.in_burst == 1)
        return self._group(cand, count)

    def across_stores(self, w: Window, key: str, min_stores: int) -> list[SubjectFacts]:
        return self._group(self._candidates(w, key), 1, min_stores)

    def round_cycles(
        self, w: Window, unit_fen: int, min_fen: int, within_seconds: int, min_count: int
    ) -> list[SubjectFacts]:
        gap = self._epoch(R.created_at) - self._epoch(S.paid_at)
        cond = and_(
            R.amount_fen == S.amount_fen,
            S.amount_fen % unit_fen == 0,
            S.amount_fen >= min_fen,
            gap <= within_seconds,
        )
        return self._group(self._candidates(w, "card", cond), min_count)

    def wrong_charges(self, w: Window, reasons: list[str], min_count: int) -> list[SubjectFacts]:
        return self._group(self._candidates(w, "seller", R.reason.in_(reasons)), min_count)

    def failing_terminals(self, w: Window, min_count: int) -> list[SubjectFacts]:
        return self._group(self._candidates(w, "terminal", R.status.in_(_FAILED)), min_count)

    def cashier_activity(self, w: Window) -> list[CashierActivity]:
        """Per cashier: sales rung up and refunds asked for in the window, and the store of most sales."""
        sold = (
            select(S.sold_by, S.store_id, func.count())
            .where(
                S.merchant_id == w.merchant_id,
                S.paid_date >= (w.start - timedelta(days=1)).date(),
                S.paid_date <= (w.end + timedelta(days=1)).date(),
                S.paid_at >= w.start,
                S.paid_at < w.end,
                S.sold_by != "",
            )
            .group_by(S.sold_by, S.store_id)
        )
        sales: dict[str, dict[str, int]] = defaultdict(dict)
        for who, store, n in self.c.execute(sold):
            sales[str(who)][str(store)] = int(n)
        asked = (
            select(R.requested_by, func.count(), func.sum(R.amount_fen))
            .where(R.merchant_id == w.merchant_id, R.created_at >= w.start, R.created_at < w.end)
            .group_by(R.requested_by)
        )
        refunds = {str(who): (int(n), int(fen or 0)) for who, n, fen in self.c.execute(asked)}
        people = set(sales) | set(refunds)
        joined = self._joined(sorted(people))
        out = []
        for who in sorted(people):
            stores = sales.get(who, {})
            store = max(sorted(stores), key=lambda s: stores[s]) if stores else ""
            n, fen = refunds.get(who, (0, 0))
            out.append(CashierActivity(who, store, sum(stores.values()), n, fen, joined.get(who)))
        return out

    def _joined(self, people: list[str]) -> dict[str, datetime]:
        u = tables.users.c
        found: dict[str, datetime] = {}
        for i in range(0, len(people), _IN_CHUNK):
            q = select(u.id, u.created_at).where(u.id.in_(people[i : i + _IN_CHUNK]))
            found.update({str(r.id): r.created_at for r in self.c.execute(q)})
        return found
