"""A refund's attempts on its channel, each under the fence its claim took."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository
from posrefund.ports import RefundAttempt

_A = tables.refund_attempts.c
_FIELDS = tuple(f.name for f in fields(RefundAttempt))


def _attempt(row: Any) -> RefundAttempt:
    return RefundAttempt(**{name: row._mapping[name] for name in _FIELDS})


class RefundAttemptSql(Repository):
    def open_attempt(self, attempt: RefundAttempt) -> None:
        self.c.execute(insert(tables.refund_attempts).values({name: getattr(attempt, name) for name in _FIELDS}))

    def finish_attempt(
        self, case_id: str, fence: int, finished_at: datetime, call: str, outcome: str, code: str, message: str
    ) -> None:
        """The answer a worker got under ``fence``, applied or stale: the row keeps the first one recorded."""
        self.c.execute(
            update(tables.refund_attempts)
            .where(_A.case_id == case_id, _A.fence == fence, _A.finished_at.is_(None))
            .values(finished_at=finished_at, call=call[:8], outcome=outcome, code=code[:64], message=message)
        )

    def renew_attempt(self, case_id: str, fence: int, lease_until: datetime) -> None:
        self.c.execute(
            update(tables.refund_attempts)
            .where(_A.case_id == case_id, _A.fence == fence)
            .values(lease_until=lease_until)
        )

    def last_attempt(self, case_id: str) -> RefundAttempt | None:
        q = select(tables.refund_attempts).where(_A.case_id == case_id).order_by(_A.fence.desc()).limit(1)
        row = self.c.execute(q).first()
        return _attempt(row) if row else None

    def attempts_of(self, merchant_id: str, case_id: str) -> list[RefundAttempt]:
        q = (
            select(tables.refund_attempts)
            .where(_A.merchant_id == merchant_id, _A.case_id == case_id)
            .order_by(_A.fence)
        )
        return [_attempt(row) for row in self.c.execute(q)]
