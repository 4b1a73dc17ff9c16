"""Refunds held by a high risk alert until a second person decides, and the per-merchant claim of the scheduled
risk scan. Holding moves the case's version in the same statement that checks it has not reached the channel,
so a worker's claim that read the case before the hold fails its compare-and-set instead of sending money."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository, all_rows, first_row
from posrefund.ports.risk import HoldRow

H = tables.risk_holds.c
_R = tables.refunds.c
_SCAN = tables.risk_scan_schedule.c
BEFORE_MONEY = ("requested", "pending_review", "approved")
HELD = "held"
_CHUNK = 500  # cases a statement: within every database's limit of bound parameters


class RiskHoldSql(Repository):
    def hold_many(
        self, merchant_id: str, case_ids: Sequence[str], alert_id: str, now: datetime
    ) -> list[tuple[str, str]]:
        """One statement a chunk: move the version of the named cases still before the money and never held,
        and hold them; cases already final, with their channel or held once before are left as they are."""
        out: list[tuple[str, str]] = []
        ids = list(dict.fromkeys(case_ids))
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i : i + _CHUNK]
            moved = self.c.execute(
                update(tables.refunds)
                .where(
                    _R.id.in_(chunk),
                    _R.merchant_id == merchant_id,
                    _R.status.in_(BEFORE_MONEY),
                    ~exists().where(H.case_id == _R.id),  # held once (perhaps released): never held again
                )
                .values(version=_R.version + 1)
                .returning(_R.id, _R.status)
            ).all()
            status = {str(case_id): str(st) for case_id, st in moved}
            held = [(case_id, status[case_id]) for case_id in chunk if case_id in status]  # in the order named
            if held:
                values = {"merchant_id": merchant_id, "alert_id": alert_id, "status": HELD, "held_at": now}
                self.c.execute(insert(tables.risk_holds), [{"case_id": case_id, **values} for case_id, _ in held])
            out += held
        return out

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
