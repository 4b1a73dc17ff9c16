"""Refunds held by a high risk alert until a second person decides, and the per-merchant claim of the scheduled
risk scan. Holding moves the case's version in the same statement that checks it has not reached the channel,
so a worker's claim that read the case before the hold fails its compare-and-set instead of sending money."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports.risk import HoldRow

H = tables.risk_holds.c
_R = tables.refunds.c
_SCAN = tables.risk_scan_schedule.c
BEFORE_MONEY = ("requested", "pending_review", "approved")
HELD = "held"


class RiskHoldSql(Repository):
    def hold(self, merchant_id: str, case_id: str, alert_id: str, now: datetime) -> str | None:
        if self.c.execute(select(H.case_id).where(H.case_id == case_id)).first() is not None:
            return None  # held once already (and perhaps released by a person): the same alert never holds again
        moved = self.c.execute(
            update(tables.refunds)
            .where(_R.id == case_id, _R.merchant_id == merchant_id, _R.status.in_(BEFORE_MONEY))
            .values(version=_R.version + 1)
        )
        if moved.rowcount != 1:
            return None  # already with the channel (or final): too late to hold, the alert still stands
        status = self.c.execute(select(_R.status).where(_R.id == case_id)).scalar_one()
        values = {"case_id": case_id, "merchant_id": merchant_id, "alert_id": alert_id, "status": HELD}
        self.c.execute(insert(tables.risk_holds).values(held_at=now, **values))
        return str(status)

    def is_held(self, case_id: str) -> bool:
        return self.c.execute(select(H.case_id).where(H.case_id == case_id, H.status == HELD)).first() is not None

    def get_hold(self, merchant_id: str, case_id: str, *, for_update: bool = False) -> HoldRow | None:
        q = select(tables.risk_holds).where(H.case_id == case_id, H.merchant_id == merchant_id)
        return cast(HoldRow | None, first_row(self.c, q.with_for_update() if for_update else q))

    def decide(self, case_id: str, status: str, by: str, at: datetime, reason: str) -> bool:
        q = (
            update(tables.risk_holds)
            .where(H.case_id == case_id, H.status == HELD)
            .values(status=status, decided_by=by, decided_at=at, reason=reason)
        )
        return self.c.execute(q).rowcount == 1

    def held(self, merchant_id: str, limit: int) -> list[HoldRow]:
        q = (
            select(tables.risk_holds)
            .where(H.merchant_id == merchant_id, H.status == HELD)
            .order_by(H.held_at, H.case_id)
            .limit(limit)
        )
        return cast(list[HoldRow], all_rows(self.c, q))

    def claim_scan(self, merchant_id: str, now: datetime, next_at: datetime, worker: str) -> bool:
        row = self.c.execute(select(_SCAN.next_at).where(_SCAN.merchant_id == merchant_id)).first()
        values = {"next_at": next_at, "last_at": now, "claimed_by": worker[:40]}
        if row is None:
            try:
                with self.c.begin_nested():  # two workers' first scan of a merchant: the key lets one in
                    self.c.execute(insert(tables.risk_scan_schedule).values(merchant_id=merchant_id, **values))
            except IntegrityError:
                return False
            return True
        if row[0] > now:
            return False
        q = update(tables.risk_scan_schedule).where(_SCAN.merchant_id == merchant_id, _SCAN.next_at == row[0])
        return self.c.execute(q.values(**values)).rowcount == 1

    def merchants(self) -> list[str]:
        q = select(tables.merchants.c.id).order_by(tables.merchants.c.id)
        return [str(m) for m in self.c.execute(q).scalars()]
