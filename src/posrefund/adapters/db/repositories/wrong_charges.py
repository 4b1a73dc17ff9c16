"""Wrong charges (错收): a discrepancy handled as money taken in error, with its evidence and correction."""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository, first_row
from posrefund.ports import WrongChargeRow

_W = t.wrong_charges.c


class WrongChargeSql(Repository):
    def add_wrong_charge(self, row: WrongChargeRow) -> None:
        self.c.execute(insert(t.wrong_charges).values(**{**row, "evidence_ids": json.dumps(row["evidence_ids"])}))

    def get_wrong_charge(self, merchant_id: str, wc_id: str) -> WrongChargeRow | None:
        row = first_row(self.c, select(t.wrong_charges).where(_W.merchant_id == merchant_id, _W.id == wc_id))
        if row is not None:
            row["evidence_ids"] = json.loads(row["evidence_ids"])
        return cast(WrongChargeRow | None, row)

    def save_wrong_charge(self, row: WrongChargeRow) -> bool:
        """Compare-and-set on the version; the row's version is bumped when it wins."""
        values: dict[str, Any] = {k: v for k, v in row.items() if k not in ("id", "version")}
        values["evidence_ids"] = json.dumps(row["evidence_ids"])
        done = self.c.execute(
            update(t.wrong_charges)
            .where(_W.id == row["id"], _W.version == row["version"])
            .values(**values, version=row["version"] + 1)
        )
        if done.rowcount == 1:
            row["version"] += 1
            return True
        return False
