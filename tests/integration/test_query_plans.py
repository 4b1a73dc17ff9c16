"""Every hot read of a growing merchant is served by an index: the plans the databases choose, with statistics,
for a merchant with thousands of refunds, sales and audit events next to another merchant's. A full scan of
refunds, audit_events or sales here is a request whose cost grows with the merchant's history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

from posrefund.adapters.db.repositories.audit import EVENT_CHAINS, AuditSql
from posrefund.adapters.db.repositories.refunds import GET_CASE, RefundSql
from posrefund.adapters.db.repositories.sales import SaleSql
from posrefund.adapters.db.statistics import refresh_statistics
from posrefund.bootstrap import engine_of
from posrefund.entrypoints.worker.loop import _refresh_statistics
from posrefund.ports import RefundQuery, SaleQuery
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.support.refund_rows import Growth, grow

START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
SALES, REFUNDS, CASES_WITH_EVENTS = 1_500, 6_000, 1_000
HOT_TABLES = ("refunds", "audit_events", "sales")


@pytest.fixture
def grown(deps: Deps, world: World) -> Engine:
    """Two merchants with a history each, and the planner's statistics gathered."""
    engine = engine_of(deps)
    for m, prefix in ((world.a, "A"), (world.b, "B")):
        grow(engine, (m.id, m.store_id, m.terminal_id), prefix, Growth(SALES, REFUNDS, CASES_WITH_EVENTS, START))
    refresh_statistics(engine)
    return engine


Read = Callable[[Connection], object]


def _statements(engine: Engine, read: Read) -> list[tuple[str, Any]]:
    """The SQL (and its parameters) the read runs, as the repositories build it."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with engine.connect() as conn:
        event.listen(engine, "before_cursor_execute", record)
        try:
            read(conn)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    return seen


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    """The chosen plan as text: SQLite's EXPLAIN QUERY PLAN lines, PostgreSQL's EXPLAIN lines."""
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(explain + statement, parameters).all()
    return "\n".join(str(r[-1]) for r in rows)


def _full_scans(engine: Engine, plan: str) -> list[str]:
    """Lines of the plan that read a hot table whole."""
    if engine.dialect.name == "sqlite":
        return [line for line in plan.splitlines() if any(line.strip() == f"SCAN {t}" for t in HOT_TABLES)]
    return [line for line in plan.splitlines() if any(f"Seq Scan on {t}" in line for t in HOT_TABLES)]


HOT_READS: dict[str, tuple[Callable[[World], Read], tuple[str, ...]]] = {
    "refund by id": (
        lambda w: lambda c: c.execute(GET_CASE.stmt, {"b_id": "AR0000042", "b_mid": w.a.id}).first(),
        ("pk_refunds", "sqlite_autoindex_refunds_1"),
    ),
    "refund list, first page": (
        lambda w: lambda c: RefundSql(c).find_cases(w.a.id, RefundQuery(limit=101)),
        ("ix_refunds_merchant_created_id",),
    ),
    "refund list, next page by cursor": (
        lambda w: (
            lambda c: RefundSql(c).find_cases(
                w.a.id, RefundQuery(limit=101, after=(START + timedelta(seconds=1000), "AR0002000"))
            )
        ),
        ("ix_refunds_merchant_created_id",),
    ),
    "refund list by status": (
        lambda w: lambda c: RefundSql(c).find_cases(w.a.id, RefundQuery(status="processing", limit=101)),
        ("ix_refunds_merchant_status_created_id",),
    ),
    "refunds of a sale": (
        lambda w: lambda c: RefundSql(c).find_cases(w.a.id, RefundQuery(sale_id="A000042", limit=101)),
        ("ix_refunds_merchant_sale_created", "ix_refunds_sale_id"),
    ),
    "refunds by phone": (
        lambda w: lambda c: RefundSql(c).find_cases(w.a.id, RefundQuery(phone_index="phone42", limit=101)),
        ("ix_refunds_merchant_phone_created",),
    ),
    "my refunds": (
        lambda w: lambda c: RefundSql(c).find_cases(w.a.id, RefundQuery(requested_by="cashier7", limit=101)),
        ("ix_refunds_merchant_requester_created",),
    ),
    "a refund's events": (
        lambda w: lambda c: AuditSql(c).case_events(w.a.id, "AR0000042"),
        ("ix_audit_events_chain_case_id",),
    ),
    "sale by voucher": (
        lambda w: lambda c: SaleSql(c, lambda t: t.date()).find_sales(w.a.id, SaleQuery(voucher_no="000042")),
        ("ix_sales_merchant_voucher",),
    ),
    "sale by order": (
        lambda w: lambda c: SaleSql(c, lambda t: t.date()).find_sales(w.a.id, SaleQuery(order_no="AO00000042")),
        ("ix_sales_merchant_order",),
    ),
}


def test_every_hot_read_uses_its_index(grown: Engine, world: World) -> None:
    wrong: dict[str, str] = {}
    for name, (read, indexes) in HOT_READS.items():
        statements = _statements(grown, read(world))
        assert len(statements) == 1, (name, statements)
        plan = _plan(grown, *statements[0])
        if not any(ix in plan for ix in indexes) or _full_scans(grown, plan):
            wrong[name] = plan
    assert wrong == {}


def test_a_cursor_page_deep_in_the_history_reads_only_its_rows(grown: Engine, world: World) -> None:
    """The page after a cursor is found by seeking the index, not by walking the rows before it."""
    with grown.connect() as conn:
        page = RefundSql(conn).find_cases(
            world.a.id, RefundQuery(limit=100, after=(START + timedelta(seconds=100), "AR0000200"))
        )
    assert [c.id for c in page[:3]] == ["AR0000199", "AR0000198", "AR0000197"]
    assert len(page) == 100


def test_the_worker_gathers_the_planners_statistics(deps: Deps, world: World) -> None:
    """The worker's hourly step leaves statistics on the refund indexes (SQLite) or an analysed table (PostgreSQL)."""
    engine = engine_of(deps)
    grow(engine, (world.a.id, world.a.store_id, world.a.terminal_id), "A", Growth(50, 200, 10, START))
    _refresh_statistics(deps)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            found = conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_refunds_merchant_sale_created'")
            assert found.scalar_one().split()[0] == "200"
        else:
            found = conn.exec_driver_sql("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'refunds'")
            assert found.scalar_one() is not None


def test_the_chains_of_the_events_are_found_by_seeking_not_by_reading_every_event(grown: Engine, world: World) -> None:
    """An incremental audit verify first names every chain; it must not read the whole event history to do so."""
    plan = _plan(grown, str(EVENT_CHAINS), {})
    if grown.dialect.name == "sqlite":  # the first chain and each next one: a search of an index on chain
        reads = [line for line in plan.splitlines() if line.startswith(("SEARCH", "SCAN")) and "found" not in line]
        assert len(reads) == 2 and all(r.startswith("SEARCH") and "COVERING INDEX" in r for r in reads), plan
        assert reads[1].endswith("(chain>?)"), plan  # each next chain found by seeking past the last one
    else:  # each step a Limit 1 over an index-only scan, never a sequential scan
        assert "Seq Scan" not in plan and "Index Only Scan using" in plan, plan
    with grown.connect() as conn:
        assert AuditSql(conn).chains() == sorted({world.a.id, world.b.id, *AuditSql(conn).heads()})
