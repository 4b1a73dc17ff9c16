"""A run's discrepancies: merged from its findings by their natural key, listed, paged and resolved."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, exists, func, insert, literal, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.recon_scope import D, F, L, RunScope
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import DiscrepancyExportRow, DiscrepancyRow

# The columns of ``recon_found``, in the order the engine gives a finding (after the run's id).
FINDING_COLUMNS = [
    "run_id",
    "class",
    "line_id",
    "sale_id",
    "refund_id",
    "other_line_id",
    "ours_fen",
    "theirs_fen",
    "ours_status",
    "theirs_status",
]
_KEY = ("run_id", "class", "line_id", "sale_id", "refund_id")
_MERGED = ["run_id", "merchant_id", *FINDING_COLUMNS[1:], "found_at"]


def _same_key(a: Any, b: Any) -> list[Any]:
    """Column by column, ``a``'s natural key equals ``b``'s (both column collections)."""
    return [a[name] == b[name] for name in _KEY]


def merge_findings(conn: Connection, sc: RunScope, now: datetime) -> dict[str, int]:
    """New findings become discrepancies; ones no longer found are cleared, ones found again reopened. Running
    the same reconciliation twice therefore changes nothing the second time."""
    run_id = sc.spec.run_id
    inserted = conn.execute(insert(t.recon_discrepancies).from_select(_MERGED, _new_findings(sc, now))).rowcount
    still = exists().where(*_same_key(F, D))
    cleared = conn.execute(
        update(t.recon_discrepancies).where(D.run_id == run_id, D.cleared_at.is_(None), ~still).values(cleared_at=now)
    ).rowcount
    reopened = conn.execute(
        update(t.recon_discrepancies)
        .where(D.run_id == run_id, D.cleared_at.is_not(None), still)
        .values(cleared_at=None)
    ).rowcount
    return {"inserted": max(inserted, 0), "cleared": max(cleared, 0), "reopened": max(reopened, 0)}


def _new_findings(sc: RunScope, now: datetime) -> Select[Any]:
    """The run's findings not yet among its discrepancies, one row a key."""
    return (
        select(
            F.run_id,
            literal(sc.spec.merchant_id),
            F["class"],
            F.line_id,
            F.sale_id,
            F.refund_id,
            func.min(F.other_line_id),
            func.min(F.ours_fen),
            func.min(F.theirs_fen),
            func.min(F.ours_status),
            func.min(F.theirs_status),
            literal(now, type_=t.UTCDateTime()),
        )
        .where(F.run_id == sc.spec.run_id, ~exists().where(*_same_key(D, F)))
        .group_by(F.run_id, F["class"], F.line_id, F.sale_id, F.refund_id)
    )


class DiscrepancySql(Repository):
    def open_counts(self, run_id: str) -> dict[str, int]:
        q = select(D["class"], func.count()).where(D.run_id == run_id, D.cleared_at.is_(None)).group_by(D["class"])
        return {str(cls): int(n) for cls, n in self.c.execute(q)}

    def class_sums(self, merchant_id: str, run_id: str) -> dict[str, dict[str, int]]:
        """Open discrepancies of a run by class: how many, and the sums of our and the channel's amounts."""
        q = (
            select(
                D["class"],
                func.count(),
                func.coalesce(func.sum(D.ours_fen), 0),
                func.coalesce(func.sum(D.theirs_fen), 0),
            )
            .where(D.merchant_id == merchant_id, D.run_id == run_id, D.cleared_at.is_(None))
            .group_by(D["class"])
        )
        return {
            str(cls): {"count": int(n), "ours_fen": int(ours), "theirs_fen": int(theirs)}
            for cls, n, ours, theirs in self.c.execute(q)
        }

    def discrepancies(
        self, merchant_id: str, run_id: str, cls: str | None, limit: int, offset: int, include_cleared: bool = False
    ) -> tuple[list[DiscrepancyRow], int]:
        base = select(t.recon_discrepancies).where(D.merchant_id == merchant_id, D.run_id == run_id)
        if cls:
            base = base.where(D["class"] == cls)
        if not include_cleared:
            base = base.where(D.cleared_at.is_(None))
        total = self.c.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = all_rows(self.c, base.order_by(D.id).limit(limit).offset(offset))
        return cast(list[DiscrepancyRow], rows), int(total)

    def discrepancy_page(
        self, merchant_id: str, run_id: str, cls: str | None, after_id: int, limit: int
    ) -> list[DiscrepancyExportRow]:
        """One page of the run's open discrepancies after ``after_id``, with their line's references (keyset
        pagination, so an export of millions of rows streams page by page)."""
        q = (
            select(
                t.recon_discrepancies,
                L.line_no,
                L.kind,
                L.occurred_at,
                L.terminal_no,
                L.voucher_no,
                L.rrn,
                L.merchant_order_no,
                L.merchant_refund_no,
                L.payer_masked,
            )
            .select_from(t.recon_discrepancies.outerjoin(t.settlement_lines, L.id == D.line_id))
            .where(D.merchant_id == merchant_id, D.run_id == run_id, D.cleared_at.is_(None), D.id > after_id)
            .order_by(D.id)
            .limit(limit)
        )
        if cls:
            q = q.where(D["class"] == cls)
        return cast(list[DiscrepancyExportRow], all_rows(self.c, q))

    def get_discrepancy(self, merchant_id: str, discrepancy_id: int) -> DiscrepancyRow | None:
        q = select(t.recon_discrepancies).where(D.merchant_id == merchant_id, D.id == discrepancy_id)
        return cast(DiscrepancyRow | None, first_row(self.c, q))

    def resolve_discrepancy(self, discrepancy_id: int, resolution: str, wrong_charge_id: str = "") -> bool:
        """Conditional: only an unresolved discrepancy is marked (a second click changes nothing)."""
        done = self.c.execute(
            update(t.recon_discrepancies)
            .where(D.id == discrepancy_id, D.resolution == "")
            .values(resolution=resolution, wrong_charge_id=wrong_charge_id)
        )
        return done.rowcount == 1
