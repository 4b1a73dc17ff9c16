"""Each case's application to send its abnormal WeChat Pay refund to a bank card (the row holds ciphertext only)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, first_row
from posrefund.ports.abnormal_refunds import CardApplicationRow

A = tables.abnormal_refund_applications.c


class CardApplicationSql(Repository):
    def get_application(self, merchant_id: str, case_id: str) -> CardApplicationRow | None:
        q = select(tables.abnormal_refund_applications).where(A.case_id == case_id, A.merchant_id == merchant_id)
        return cast(CardApplicationRow | None, first_row(self.c, q))

    def save_application(self, row: CardApplicationRow, replacing: CardApplicationRow | None) -> bool:
        if replacing is not None:  # exactly the row the caller read: one another person replaced meanwhile stays
            self.c.execute(
                delete(tables.abnormal_refund_applications).where(
                    A.case_id == row["case_id"],
                    A.status == replacing["status"],
                    A.applied_at == replacing["applied_at"],
                    A.sends == replacing["sends"],
                )
            )
        try:
            with self.c.begin_nested():  # two people applying at once: the case's key lets one in
                self.c.execute(insert(tables.abnormal_refund_applications).values(**row))
        except IntegrityError:
            return False
        return True

    def mark(self, case_id: str, status: str, code: str, at: datetime, *, sent: bool = False) -> None:
        values = {"status": status, "last_code": code[:64], "updated_at": at}
        q = update(tables.abnormal_refund_applications).where(A.case_id == case_id)
        self.c.execute(q.values(sends=A.sends + 1, **values) if sent else q.values(**values))
