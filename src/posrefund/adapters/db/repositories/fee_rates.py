"""The fee rates a merchant agreed with each channel, against which the settled fees are checked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.rows import Repository
from posrefund.domain.reconciliation import FeeRate

_FR = t.recon_fee_rates.c


class FeeRateSql(Repository):
    def put_fee_rate(self, merchant_id: str, rate: FeeRate, actor_id: str, now: datetime) -> None:
        values = {
            "rate_bp": rate.rate_bp,
            "large_rate_bp": rate.large_rate_bp,
            "large_from_fen": rate.large_from_fen,
            "updated_by": actor_id,
            "updated_at": now,
        }
        done = self.c.execute(
            update(t.recon_fee_rates)
            .where(_FR.merchant_id == merchant_id, _FR.channel == rate.channel)
            .values(**values)
        )
        if done.rowcount == 0:
            self.c.execute(insert(t.recon_fee_rates).values(merchant_id=merchant_id, channel=rate.channel, **values))

    def fee_rates(self, merchant_id: str) -> list[FeeRate]:
        rows = self.c.execute(select(t.recon_fee_rates).where(_FR.merchant_id == merchant_id).order_by(_FR.channel))
        return [FeeRate(r.channel, r.rate_bp, r.large_rate_bp, r.large_from_fen) for r in rows]
