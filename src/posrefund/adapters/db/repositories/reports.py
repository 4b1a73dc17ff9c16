"""The refund reports' reads: a month from the daily aggregates (one range of their key per dimension), the same
figures from the cases and sales themselves (the raw path: any filter, and the check of the aggregates), the
cases behind a cell, and the wrong charges and disputes beside them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories import report_days as days
from posrefund.adapters.db.repositories.rows import Repository, equal_where_given
from posrefund.domain.reports import ALTERNATIVE, COUNT_FIELDS, WAIT_COLUMNS, By, CaseFacts, Period, Tally
from posrefund.ports.reports import Grouping, ReportCase, ReportScope, SideFigures

_R = tables.refunds.c
_S = tables.sales.c
_RD = tables.report_refund_days.c
_SD = tables.report_sale_days.c
# Which stored dimension a grouping reads, and by which column its rows are keyed.
_STORED_DIMENSION = {By.TERMINAL: "terminal", By.CASHIER: "cashier", By.REASON: "reason", By.ROUTE: "route"}
_STORED_DIMENSION[By.OUTCOME] = "outcome"


def _key_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


class ReportSql(Repository):
    def changed_merchants(self) -> list[str]:
        return days.changed_merchants(self.c)

    def catch_up(self, merchant_id: str) -> int:
        return days.catch_up(self.c, merchant_id)

    def pending_days(self, merchant_id: str, first: date, last: date) -> list[date]:
        ch = tables.report_changes.c
        q = (
            select(ch.day)
            .where(ch.merchant_id == merchant_id, ch.day >= first, ch.day <= last)
            .distinct()
            .order_by(ch.day)
        )
        return [row[0] for row in self.c.execute(q)]

    def mark_days(self, merchant_id: str, first: date, last: date) -> int:
        return days.mark_days(self.c, merchant_id, first, last)

    def refund_cells(self, scope: ReportScope, by: Grouping, *, raw: bool) -> dict[str, Tally]:
        return self._refunds_raw(scope, by) if raw or scope.needs_cases else self._refunds_stored(scope, by)

    def _refunds_stored(self, scope: ReportScope, by: Grouping) -> dict[str, Tally]:
        dimension = _STORED_DIMENSION.get(by, "all") if by is not None else "all"
        key: ColumnElement[Any] = (
            {By.DAY: _RD.day, By.STORE: _RD.store_id, By.CHANNEL: _RD.channel}.get(
                by, _RD.value if dimension != "all" else literal("")
            )
            if by is not None
            else literal("")
        )
        sums = [func.sum(getattr(_RD, name)) for name in (*COUNT_FIELDS, *WAIT_COLUMNS)]
        q = (
            select(key, *sums)
            .where(
                _RD.merchant_id == scope.merchant_id,
                _RD.dimension == dimension,
                _RD.day >= scope.period.first,
                _RD.day <= scope.period.last,
                _RD.currency == scope.currency,
                *equal_where_given((_RD.store_id, scope.store_id), (_RD.channel, scope.channel)),
            )
            .group_by(key)
        )
        return {_key_text(row[0]): Tally.of(row[1:]) for row in self.c.execute(q)}

    def _refunds_raw(self, scope: ReportScope, by: Grouping) -> dict[str, Tally]:
        cells: dict[str, Tally] = {}
        for case in days.facts_of(self.c.execute(select(*days.FACT_COLUMNS).where(*_case_conditions(scope)))):
            key = _raw_key(case, by)
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = Tally()
            cell.count(case.status, case.amount_fen, case.wait_seconds)
        return cells

    def sale_cells(self, scope: ReportScope, by: Grouping, *, raw: bool) -> dict[str, tuple[int, int]]:
        """Sales count and amount (fen) of the scope's store, channel and terminal (other filters do not
        apply to sales), by day, store, terminal or channel, or in total."""
        if raw:
            t: Any = _S
            day_column, filters = _S.paid_date, (_S.merchant_id == scope.merchant_id,)
            count: Any = func.count()
            amount: Any = func.sum(_S.amount_fen)
        else:
            t, day_column, filters = _SD, _SD.day, (_SD.merchant_id == scope.merchant_id,)
            count, amount = func.sum(_SD.sales), func.sum(_SD.sales_fen)
        keys = {By.DAY: day_column, By.STORE: t.store_id, By.TERMINAL: t.terminal_id, By.CHANNEL: t.channel}
        key: ColumnElement[Any] = keys[by] if by in keys else literal("")
        q = (
            select(key, count, amount)
            .where(
                *filters,
                day_column >= scope.period.first,
                day_column <= scope.period.last,
                t.currency == scope.currency,
                *equal_where_given(
                    (t.store_id, scope.store_id), (t.channel, scope.channel), (t.terminal_id, scope.terminal_id)
                ),
            )
            .group_by(key)
        )
        return {_key_text(row[0]): (int(row[1] or 0), int(row[2] or 0)) for row in self.c.execute(q)}

    def cases(self, scope: ReportScope, limit: int, offset: int) -> tuple[list[ReportCase], int]:
        where = and_(*_case_conditions(scope))
        total = int(self.c.execute(select(func.count()).select_from(tables.refunds).where(where)).scalar() or 0)
        columns = (_R.id, _R.refund_no, _R.status, _R.amount_fen, _R.currency, _R.created_at, _R.store_id)
        q = select(*columns, _R.terminal_id).where(where).order_by(_R.created_at, _R.id).limit(limit).offset(offset)
        return [ReportCase(*row) for row in self.c.execute(q)], total

    def side_figures(self, merchant_id: str, period: Period) -> SideFigures:
        start, end = days.day_start(period.first), days.day_start(period.last + timedelta(days=1))
        w = tables.wrong_charges.c
        wrong = self.c.execute(
            select(w.status, func.count())
            .where(w.merchant_id == merchant_id, w.created_at >= start, w.created_at < end)
            .group_by(w.status)
        )
        d = tables.disputes.c
        disputes = self.c.execute(
            select(d.status, func.count(), func.coalesce(func.sum(d.claimed_fen), 0))
            .where(d.merchant_id == merchant_id, d.opened_at >= start, d.opened_at < end)
            .group_by(d.status)
        ).all()
        return SideFigures(
            wrong_charges={str(s): int(n) for s, n in wrong},
            disputes={str(s): int(n) for s, n, _f in disputes},
            disputed_fen=sum(int(f) for _s, _n, f in disputes),
        )

    def names(self, merchant_id: str, by: By, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        sources = {
            By.STORE: (tables.stores.c.id, tables.stores.c.name, tables.stores.c.merchant_id),
            By.TERMINAL: (tables.terminals.c.id, tables.terminals.c.terminal_no, tables.terminals.c.merchant_id),
            By.CASHIER: (tables.users.c.id, tables.users.c.display_name, tables.users.c.merchant_id),
        }
        if by not in sources:
            return {}
        ident, name, owner = sources[by]
        q = select(ident, name).where(owner == merchant_id, ident.in_(list(keys)))
        return {str(i): str(n) for i, n in self.c.execute(q)}


def _raw_key(case: CaseFacts, by: Grouping) -> str:
    if by is None:
        return ""
    if by is By.DAY:
        return days.local_day(case.created_at).isoformat()
    if by is By.STORE:
        return case.store_id
    if by is By.CHANNEL:
        return case.channel
    return case.value_of(_STORED_DIMENSION[by])


def _case_conditions(scope: ReportScope) -> list[Any]:
    """The scope as conditions on the cases: requested in its days, of its currency, through its filters."""
    conds = [
        _R.merchant_id == scope.merchant_id,
        _R.created_at >= days.day_start(scope.period.first),
        _R.created_at < days.day_start(scope.period.last + timedelta(days=1)),
        _R.currency == scope.currency,
        *equal_where_given(
            (_R.store_id, scope.store_id),
            (_R.channel, scope.channel),
            (_R.terminal_id, scope.terminal_id),
            (_R.requested_by, scope.cashier_id),
        ),
    ]
    if scope.reasons is not None:
        conds.append(_R.reason.in_(scope.reasons))
    if scope.statuses is not None:
        conds.append(_R.status.in_(scope.statuses))
    if scope.route is not None:
        conds.append(_R.rerouted_by != "" if scope.route == ALTERNATIVE else _R.rerouted_by == "")
    return conds
