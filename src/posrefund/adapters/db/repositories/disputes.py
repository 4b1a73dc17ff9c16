"""Disputes: a customer's claim against a refund, escalated or decided."""

from __future__ import annotations

from typing import cast

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import DisputeRow, DisputeState

_D = t.disputes.c


class DisputeSql(Repository):
    def add_dispute(self, row: DisputeRow) -> None:
        self.c.execute(insert(t.disputes).values(**row))

    def get_dispute(self, merchant_id: str, dispute_id: str) -> DisputeRow | None:
        row = first_row(self.c, select(t.disputes).where(_D.id == dispute_id, _D.merchant_id == merchant_id))
        return cast(DisputeRow | None, row)

    def save_dispute(self, dispute_id: str, version: int, values: DisputeState) -> bool:
        """Compare-and-set on the version: a lost race changes nothing and answers False."""
        q = update(t.disputes).where(_D.id == dispute_id, _D.version == version).values(version=version + 1, **values)
        return bool(self.c.execute(q).rowcount)

    def list_disputes(self, merchant_id: str, status: str | None, case_id: str | None, limit: int) -> list[DisputeRow]:
        q = select(t.disputes).where(_D.merchant_id == merchant_id)
        if status:
            q = q.where(_D.status == status)
        if case_id:
            q = q.where(_D.case_id == case_id)
        return cast(list[DisputeRow], all_rows(self.c, q.order_by(_D.opened_at, _D.id).limit(limit)))
