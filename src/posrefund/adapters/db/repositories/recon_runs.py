"""Reconciliation runs: one a merchant's channel, date range and file set; running one again updates it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import delete, func, insert, select, update

from posrefund.adapters.db import recon_engine
from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.discrepancies import FINDING_COLUMNS, merge_findings
from posrefund.adapters.db.repositories.recon_scope import F, run_scope
from posrefund.adapters.db.repositories.rows import Repository, row_dict
from posrefund.ports import ReconRunRow, RunFindings, RunSpec, RunTotals

_RR = t.recon_runs.c
FOUND_BATCH = 10_000


def run_row(r: Any) -> ReconRunRow:
    """A run's row with its JSON columns (file set, totals) decoded."""
    row = row_dict(r)
    row["file_ids"] = json.loads(row["file_ids"])
    row["totals"] = json.loads(row["totals"])
    return cast(ReconRunRow, row)


class ReconRunSql(Repository):
    def run_by_key(self, merchant_id: str, key: str) -> ReconRunRow | None:
        r = self.c.execute(select(t.recon_runs).where(_RR.merchant_id == merchant_id, _RR.run_key == key)).first()
        return run_row(r) if r else None

    def get_run(self, merchant_id: str, run_id: str) -> ReconRunRow | None:
        r = self.c.execute(select(t.recon_runs).where(_RR.merchant_id == merchant_id, _RR.id == run_id)).first()
        return run_row(r) if r else None

    def runs(self, merchant_id: str, limit: int, offset: int) -> tuple[list[ReconRunRow], int]:
        """The merchant's runs, latest first, and how many there are (the console's list)."""
        where = _RR.merchant_id == merchant_id
        total = int(self.c.scalar(select(func.count()).select_from(t.recon_runs).where(where)) or 0)
        q = select(t.recon_runs).where(where).order_by(_RR.updated_at.desc(), _RR.id.desc()).limit(limit).offset(offset)
        return [run_row(r) for r in self.c.execute(q)], total

    def add_run(self, row: ReconRunRow) -> None:
        self.c.execute(
            insert(t.recon_runs).values(
                **{**row, "file_ids": json.dumps(row["file_ids"]), "totals": json.dumps(row["totals"], sort_keys=True)}
            )
        )

    def set_totals(self, run_id: str, totals: RunTotals, now: datetime) -> None:
        self.c.execute(
            update(t.recon_runs)
            .where(_RR.id == run_id)
            .values(totals=json.dumps(totals, sort_keys=True), updated_at=now, stale_at=None, stale_reason="")
        )

    def find(self, spec: RunSpec) -> RunFindings:
        """Match and classify the run in the analytical engine, reading its lines and ledger on this connection
        (a read transaction: nothing is locked while the engine works)."""
        return recon_engine.find(self.c, spec)

    def merge(self, spec: RunSpec, found: RunFindings, now: datetime) -> dict[str, int]:
        """Merge the engine's findings into the run's discrepancies by natural key, through the ``recon_found``
        scratch table (filled in bulk, emptied before the transaction ends); what changed and the match counts."""
        scope = run_scope(spec)
        for rows in found.batches(FOUND_BATCH):
            found_rows = [dict(zip(FINDING_COLUMNS, (spec.run_id, *row), strict=True)) for row in rows]
            self.c.execute(insert(t.recon_found), found_rows)
        changed = merge_findings(self.c, scope, now)
        self.c.execute(delete(t.recon_found).where(F.run_id == spec.run_id))
        return {"matched_sales": found.matched_sales, "matched_refunds": found.matched_refunds, **changed}

    def complete_days(self, merchant_id: str, source: str, days: Sequence[date]) -> set[date]:
        """Which of ``days`` a complete run of the channel (every line of its files read) has covered."""
        if not days:
            return set()
        q = select(_RR.date_from, _RR.date_to, _RR.totals).where(
            _RR.merchant_id == merchant_id,
            _RR.source == source,
            _RR.date_from <= max(days),
            _RR.date_to >= min(days),
        )
        covered: set[date] = set()
        for date_from, date_to, totals in self.c.execute(q):
            if json.loads(totals).get("complete") is True:
                covered |= {d for d in days if date_from <= d <= date_to}
        return covered
