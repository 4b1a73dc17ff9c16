"""Lists the console's reconciliation pages need and the reconciliation repository does not offer: the
merchant's latest runs and imported files, newest first (crecon: console pages of issue 6)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, select

from posrefund.adapters.db import tables


class ReconListSql:
    def __init__(self, conn: Connection) -> None:
        self.c = conn

    def runs(self, merchant_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        rr = tables.recon_runs.c
        where = rr.merchant_id == merchant_id
        total = int(self.c.scalar(select(func.count()).select_from(tables.recon_runs).where(where)) or 0)
        q = (
            select(tables.recon_runs)
            .where(where)
            .order_by(rr.updated_at.desc(), rr.id.desc())
            .limit(limit)
            .offset(offset)
        )
        rows = []
        for r in self.c.execute(q):
            row = dict(r._mapping)
            row["file_ids"] = json.loads(row["file_ids"])
            row["totals"] = json.loads(row["totals"])
            rows.append(row)
        return rows, total

    def files(self, merchant_id: str, limit: int) -> list[dict[str, Any]]:
        f = tables.settlement_files.c
        q = (
            select(tables.settlement_files)
            .where(f.merchant_id == merchant_id)
            .order_by(f.imported_at.desc(), f.id.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in self.c.execute(q)]

    def class_sums(self, merchant_id: str, run_id: str) -> dict[str, dict[str, int]]:
        """Open discrepancies of a run by class: how many, and the sums of our and the channel's amounts."""
        d = tables.recon_discrepancies.c
        q = (
            select(
                d["class"],
                func.count(),
                func.coalesce(func.sum(d.ours_fen), 0),
                func.coalesce(func.sum(d.theirs_fen), 0),
            )
            .where(d.merchant_id == merchant_id, d.run_id == run_id, d.cleared_at.is_(None))
            .group_by(d["class"])
        )
        return {
            str(cls): {"count": int(n), "ours_fen": int(ours), "theirs_fen": int(theirs)}
            for cls, n, ours, theirs in self.c.execute(q)
        }
