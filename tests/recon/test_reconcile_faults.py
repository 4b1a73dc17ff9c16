"""Reconciliation over a generated ledger and settlement file (~12k rows): every injected fault is reported with
its class, nothing else is; WeChat refunds still PROCESSING are not discrepancies; a re-run changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from posrefund.adapters.db import tables
from posrefund.demo.settlement import Faults
from posrefund.domain.reconciliation import DiscrepancyClass
from posrefund.service import reconciliation
from posrefund.service.deps import Deps
from tests.conftest import World
from tests.recon.helpers import build_set, import_and_run, reported

N_SALES = 12_000
FAULTS = Faults(
    missing_here=30,
    missing_at_channel=30,
    amount_mismatch=30,
    fee_mismatch=30,
    duplicate_charge=30,
    refund_status_mismatch=30,
    processing=25,
)


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything a run may write: its row, its discrepancies, the audit chain."""
    with engine.connect() as c:
        return {
            "runs": [tuple(r) for r in c.execute(select(tables.recon_runs).order_by(tables.recon_runs.c.id))],
            "disc": [
                tuple(r)
                for r in c.execute(select(tables.recon_discrepancies).order_by(tables.recon_discrepancies.c.id))
            ],
            "audit": c.scalar(select(func.count()).select_from(tables.audit_events)),
            "scratch": c.scalar(text("SELECT count(*) FROM recon_found")),
        }


@pytest.mark.parametrize("source", ["card", "wechat", "alipay"])
def test_every_fault_reported_with_its_class_and_nothing_else(
    source: str, deps: Deps, engine: Engine, world: World, tmp_path: Path
) -> None:
    finance = world.a.actors["finance"]
    path, truth = build_set(deps, engine, world.a, tmp_path, source, N_SALES, 400, FAULTS)
    assert len(truth.expected) == FAULTS.total()
    report, run = import_and_run(deps, finance, path, source)
    assert (report.duplicate, report.bad_lines, report.lines) == (False, 0, truth.lines)
    found = reported(deps, engine, finance, run["id"])
    assert found - truth.expected == set(), "false positives"
    assert truth.expected - found == set(), "missed faults"
    counts = run["totals"]["discrepancies"]
    holds = {DiscrepancyClass.COMPLETION_MISSING_HERE, DiscrepancyClass.COMPLETION_MISSING_AT_CHANNEL}  # no holds
    assert counts == {c.value: 0 if c in holds else 30 for c in DiscrepancyClass}  # (tests/recon/test_hold_…)
    assert run["totals"]["ledger_sales"] == truth.sales
    # The PROCESSING refunds were matched (so not "missing") and are not reported.
    assert not any(key.endswith(rid) for _cls, key in found for rid in truth.processing)

    before = snapshot(engine)
    again = reconciliation.reconcile(deps, finance, source=source, date_from=run["date_from"], date_to=run["date_to"])
    assert (again["id"], again["totals"], again["created"], again["changed"]) == (
        run["id"],
        run["totals"],
        False,
        False,
    )
    assert snapshot(engine) == before
    assert before["scratch"] == 0
