"""The DuckDB engine finds exactly what the SQL path it replaced found (``tests/support/recon_reference_*``, the
statements as they stood on the operational database), on the same files and ledger: every finding with every
column, the match counts and the line totals. Realistic days of each channel checked against the merchant's fee
contract (debit, credit, caps, bands), and generated days with every kind of fault against flat rates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from posrefund.adapters.db import recon_engine
from posrefund.adapters.db.repositories.discrepancies import FINDING_COLUMNS
from posrefund.adapters.db.repositories.recon_scope import F, L, S, run_scope
from posrefund.ports import RunSpec
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.recon.helpers import build_set, import_and_run, realistic_day
from tests.recon.test_realistic_days import CONTRACT
from tests.recon.test_reconcile_faults import FAULTS
from tests.support.recon_reference_findings import find
from tests.support.recon_reference_matching import match, match_counts

Findings = tuple[list[tuple[Any, ...]], dict[str, int], dict[str, int]]


def _spec(run: dict[str, Any], merchant_id: str) -> RunSpec:
    return RunSpec(
        run_id=run["id"],
        merchant_id=merchant_id,
        source=run["source"],
        date_from=run["date_from"],
        date_to=run["date_to"],
        file_ids=tuple(run["file_ids"]),
        window_seconds=run["window_seconds"],
    )


def _engine_side(engine: Engine, spec: RunSpec) -> Findings:
    with engine.connect() as c:
        found = recon_engine.find(c, spec)
    try:
        rows = [tuple(r) for batch in found.batches(1_000) for r in batch]
        counts = {"matched_sales": found.matched_sales, "matched_refunds": found.matched_refunds}
        return sorted(rows, key=lambda r: r[:4]), counts, dict(found.line_totals)
    finally:
        found.close()


def _reference_side(engine: Engine, spec: RunSpec) -> Findings:
    """The replaced path in a transaction that is rolled back: nothing of it stays in the database."""
    sc = run_scope(spec)
    with engine.connect() as c, c.begin() as tx:
        match(c, sc)
        counts = match_counts(c, sc)
        find(c, sc)
        columns = [F[name] for name in FINDING_COLUMNS[1:]]
        rows = [tuple(r) for r in c.execute(select(*columns).where(F.run_id == spec.run_id))]
        totals = _line_totals(c, spec)
        tx.rollback()
    return sorted(rows, key=lambda r: r[:4]), counts, totals


def _line_totals(c: Connection, spec: RunSpec) -> dict[str, int]:
    sc = run_scope(spec)
    out: dict[str, int] = {}
    sums = (func.count(), func.coalesce(func.sum(L.amount_fen), 0), func.coalesce(func.sum(L.fee_fen), 0))
    for kind, n, amount, fee in c.execute(select(L.kind, *sums).where(sc.lines).group_by(L.kind)):
        out[f"lines_{kind}"], out[f"lines_{kind}_fen"], out[f"lines_{kind}_fee_fen"] = int(n), int(amount), int(fee)
    n, amount = c.execute(select(func.count(), func.coalesce(func.sum(S.amount_fen), 0)).where(sc.sales)).one()
    return out | {"ledger_sales": int(n), "ledger_sales_fen": int(amount)}


def _agree(engine: Engine, spec: RunSpec) -> list[tuple[Any, ...]]:
    ours, reference = _engine_side(engine, spec), _reference_side(engine, spec)
    assert ours[1:] == reference[1:]
    assert ours[0] == reference[0]
    return ours[0]


@pytest.mark.parametrize("source", ["card", "wechat", "alipay"])
def test_a_realistic_day_under_a_fee_contract(
    source: str, deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    m, finance = world.a, world.a.actors["finance"]
    day = realistic_day(deps, engine, m, tmp_path / f"{source}.csv", source, CONTRACT)
    _report, run = import_and_run(deps, finance, day.path, source)
    found = _agree(engine, _spec(run, m.id))
    assert len(found) == len(day.expected)
    assert sum(1 for r in found if r[0] == "fee_mismatch") == day.planted["fee_mismatch"] > 0


@pytest.mark.parametrize("source", ["card", "wechat", "alipay"])
def test_a_day_with_every_kind_of_fault_at_flat_rates(
    source: str, deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    path, truth = build_set(deps, engine, world.a, tmp_path, source, 4_000, 200, FAULTS)
    _report, run = import_and_run(deps, finance, path, source)
    found = _agree(engine, _spec(run, world.a.id))
    assert len(found) == len(truth.expected)
