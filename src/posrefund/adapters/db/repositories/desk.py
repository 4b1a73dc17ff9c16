"""The reconciliation desk's rows: stored acquirer layouts and till checks (JSON columns decoded here)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import MappingRow, ShiftCash, TillRow

_M = t.settlement_mappings.c
_T = t.till_checks.c
_S = t.sales.c
_R = t.refunds.c
_TILL_JSON = ("denominations", "transactions")


def _mapping(row: dict[str, Any] | None) -> MappingRow | None:
    if row is None:
        return None
    return cast(MappingRow, {**row, "spec": json.loads(row["spec"])})


class SettlementMappingSql(Repository):
    def get_mapping(self, merchant_id: str, name: str) -> MappingRow | None:
        return _mapping(
            first_row(self.c, select(t.settlement_mappings).where(_M.merchant_id == merchant_id, _M.name == name))
        )

    def mappings(self, merchant_id: str) -> list[MappingRow]:
        rows = all_rows(self.c, select(t.settlement_mappings).where(_M.merchant_id == merchant_id).order_by(_M.name))
        return [m for m in map(_mapping, rows) if m is not None]

    def add_mapping(self, row: MappingRow) -> None:
        self.c.execute(
            insert(t.settlement_mappings).values(**{**row, "spec": json.dumps(row["spec"], ensure_ascii=False)})
        )

    def save_mapping(self, row: MappingRow) -> bool:
        values = {"channel": row["channel"], "updated_by": row["updated_by"], "updated_at": row["updated_at"]}
        done = self.c.execute(
            update(t.settlement_mappings)
            .where(_M.merchant_id == row["merchant_id"], _M.name == row["name"], _M.version == row["version"] - 1)
            .values(**values, version=row["version"], spec=json.dumps(row["spec"], ensure_ascii=False))
        )
        return done.rowcount == 1


def _till(row: dict[str, Any] | None) -> TillRow | None:
    if row is None:
        return None
    decoded = {k: json.loads(row[k]) if row[k] else {} for k in _TILL_JSON}
    return cast(TillRow, {**row, **decoded})


def _till_values(row: TillRow) -> dict[str, Any]:
    return {**row, **{k: json.dumps(row[k]) if row[k] else "" for k in _TILL_JSON}}  # type: ignore[literal-required]


class TillSql(Repository):
    def shift_cash(self, merchant_id: str, terminal_id: str, opened_at: datetime, closed_at: datetime) -> ShiftCash:
        """Cash sales paid, and cash refunds paid out, at the terminal within [opened, closed)."""
        sales = self.c.execute(
            select(_S.id, _S.amount_fen).where(
                _S.merchant_id == merchant_id,
                _S.terminal_id == terminal_id,
                _S.channel == "cash",
                _S.paid_at >= opened_at,
                _S.paid_at < closed_at,
            )
        ).all()
        refunds = self.c.execute(
            select(_R.id, _R.amount_fen).where(
                _R.merchant_id == merchant_id,
                _R.terminal_id == terminal_id,
                _R.channel == "cash",
                _R.status == "succeeded",
                _R.succeeded_at >= opened_at,
                _R.succeeded_at < closed_at,
            )
        ).all()
        return {
            "sales_fen": sum(int(r.amount_fen) for r in sales),
            "refunds_fen": sum(int(r.amount_fen) for r in refunds),
            "sale_ids": sorted(str(r.id) for r in sales),
            "refund_ids": sorted(str(r.id) for r in refunds),
        }

    def overlapping(self, terminal_id: str, opened_at: datetime, closed_at: datetime) -> str | None:
        found = self.c.execute(
            select(_T.id)
            .where(_T.terminal_id == terminal_id, _T.opened_at < closed_at, _T.closed_at > opened_at)
            .limit(1)
        ).first()
        return str(found.id) if found else None

    def add_till(self, row: TillRow) -> None:
        self.c.execute(insert(t.till_checks).values(**_till_values(row)))

    def get_till(self, merchant_id: str, till_id: str) -> TillRow | None:
        return _till(first_row(self.c, select(t.till_checks).where(_T.merchant_id == merchant_id, _T.id == till_id)))

    def tills(self, merchant_id: str, limit: int) -> list[TillRow]:
        query = select(t.till_checks).where(_T.merchant_id == merchant_id).order_by(_T.counted_at.desc()).limit(limit)
        return [r for r in map(_till, all_rows(self.c, query)) if r is not None]

    def save_till(self, row: TillRow) -> bool:
        values = _till_values(row)
        done = self.c.execute(
            update(t.till_checks).where(_T.id == row["id"], _T.version == row["version"] - 1).values(**values)
        )
        return done.rowcount == 1

    def tolerance(self, merchant_id: str) -> int | None:
        tol = t.till_tolerances.c
        found = self.c.execute(select(tol.tolerance_fen).where(tol.merchant_id == merchant_id)).scalar()
        return None if found is None else int(found)

    def put_tolerance(self, merchant_id: str, tolerance_fen: int, actor_id: str, now: datetime) -> None:
        tol = t.till_tolerances.c
        values = {"tolerance_fen": tolerance_fen, "updated_by": actor_id, "updated_at": now}
        done = self.c.execute(update(t.till_tolerances).where(tol.merchant_id == merchant_id).values(**values))
        if done.rowcount == 0:
            self.c.execute(insert(t.till_tolerances).values(merchant_id=merchant_id, **values))
