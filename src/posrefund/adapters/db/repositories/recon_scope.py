"""What one reconciliation run looks at, as SQL conditions: its settlement lines and its slice of the ledger.

Reconciliation is done in SQL: staged settlement lines are matched against the ledger (sales, refunds) by set
operations. Nothing loads a file or a ledger into Python objects: lines are staged in batches as the parser
streams them, and a run is a dozen ``INSERT … SELECT`` statements over indexed tables (the same statements on
SQLite and PostgreSQL), so a run over a million lines costs what the database's joins cost. Findings go through
a scratch table and are merged into ``recon_discrepancies`` by their natural key, so running the same
reconciliation again inserts, clears and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, literal
from sqlalchemy.sql.elements import BindParameter

from posrefund.adapters.db import tables as t
from posrefund.domain.reconciliation import SOURCE_CHANNELS, Source
from posrefund.ports import RunSpec

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
L, S, R, F, D = (
    t.settlement_lines.c,
    t.sales.c,
    t.refunds.c,
    t.recon_found.c,
    t.recon_discrepancies.c,
)
OFFLINE_METHODS = ("cash", "cheque", "transfer")


def local_bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """The UTC instants that bound local (Asia/Shanghai) days ``date_from`` … ``date_to``, end exclusive."""
    start = datetime.combine(date_from, time(0), SHANGHAI).astimezone(UTC)
    end = datetime.combine(date_to + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)
    return start, end


@dataclass(frozen=True)
class RunScope:
    """The run's two sides as SQL conditions: its lines and its ledger."""

    run_id: BindParameter[str]
    lines: ColumnElement[bool]
    sales: ColumnElement[bool]
    refunds: ColumnElement[bool]
    spec: RunSpec


def lines_of(lines: Any, spec: RunSpec) -> ColumnElement[bool]:
    """The run's settlement lines, for the table or an alias of it (``lines`` is its column collection): the
    lines that count (not a later file's shadow of a line an earlier file holds)."""
    return and_(
        lines.merchant_id == spec.merchant_id,
        lines.file_id.in_(spec.file_ids),
        lines.shadow == "",
        lines.local_date >= spec.date_from,
        lines.local_date <= spec.date_to,
    )


def run_scope(spec: RunSpec) -> RunScope:
    """The lines of the run's files in its dates; the sales and online refunds of its channel."""
    channels = SOURCE_CHANNELS[Source(spec.source)]
    sales = and_(
        S.merchant_id == spec.merchant_id,
        S.channel.in_(channels),
        S.paid_date >= spec.date_from,
        S.paid_date <= spec.date_to,
    )
    refunds = and_(R.merchant_id == spec.merchant_id, R.channel.in_(channels), R.method.not_in(OFFLINE_METHODS))
    return RunScope(bindparam("run_id", spec.run_id), lines_of(L, spec), sales, refunds, spec)


def line_status() -> ColumnElement[str]:
    """The status of a refund or void line as reconciliation reads it: a void in a settlement file, like a
    refund the file lists without a status (card, Alipay), is done (``SUCCESS``); WeChat says its own."""
    return case((L.refund_status == "", literal("SUCCESS")), else_=L.refund_status)
