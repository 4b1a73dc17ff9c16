"""Follow-ups: a succeeded refund whose money should have arrived is checked with the customer."""

from __future__ import annotations

from datetime import date
from typing import cast

from sqlalchemy import exists, insert, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports import FollowUpClosing, FollowUpRow, NewFollowUpRow

_R, _F = t.refunds.c, t.followups.c


class FollowUpSql(Repository):
    def cases_needing_followup(self, before: date, limit: int) -> list[tuple[str, str]]:
        q = (
            select(_R.merchant_id, _R.id)
            .where(_R.status == "succeeded", _R.expected_arrival < before, ~exists().where(_F.case_id == _R.id))
            .order_by(_R.expected_arrival, _R.id)
            .limit(limit)
        )
        return [(str(a), str(b)) for a, b in self.c.execute(q)]

    def add_followup(self, row: NewFollowUpRow) -> bool:
        """False when the case has a follow-up already (one a case)."""
        if self.c.execute(select(_F.case_id).where(_F.case_id == row["case_id"])).first() is not None:
            return False
        self.c.execute(insert(t.followups).values(**row))
        return True

    def followup(self, merchant_id: str, case_id: str) -> FollowUpRow | None:
        q = select(t.followups).where(_F.case_id == case_id, _F.merchant_id == merchant_id)
        return cast(FollowUpRow | None, first_row(self.c, q))

    def close_followup(self, case_id: str, values: FollowUpClosing) -> bool:
        """Only an open follow-up is closed: of two closers, one wins."""
        q = update(t.followups).where(_F.case_id == case_id, _F.status == "open").values(status="closed", **values)
        return bool(self.c.execute(q).rowcount)

    def list_followups(self, merchant_id: str, status: str | None, limit: int) -> list[FollowUpRow]:
        q = select(t.followups).where(_F.merchant_id == merchant_id)
        if status:
            q = q.where(_F.status == status)
        return cast(list[FollowUpRow], all_rows(self.c, q.order_by(_F.due_on, _F.case_id).limit(limit)))
