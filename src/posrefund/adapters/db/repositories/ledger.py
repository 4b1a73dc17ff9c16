"""The ledger as a channel would see it, for writing demonstration settlement files from it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Executable, func, select

from posrefund.adapters.db import tables as t
from posrefund.adapters.db.repositories.recon_scope import OFFLINE_METHODS, R, S, local_bounds
from posrefund.adapters.db.repositories.rows import Repository, row_dict
from posrefund.ports import LedgerRefundRow, LedgerSaleRow


class LedgerSql(Repository):
    def ledger_sales(
        self, merchant_id: str, channels: Sequence[str], date_from: date, date_to: date
    ) -> Iterator[LedgerSaleRow]:
        """The channels' sales paid on local days ``date_from`` … ``date_to``, with their terminal's number."""
        tm = t.terminals.c
        q = (
            select(*(S[name] for name in LedgerSaleRow.__annotations__ if name != "terminal_no"), tm.terminal_no)
            .select_from(t.sales.join(t.terminals, tm.id == S.terminal_id))
            .where(
                S.merchant_id == merchant_id, S.channel.in_(channels), S.paid_date >= date_from, S.paid_date <= date_to
            )
            .order_by(S.paid_at, S.id)
        )
        return cast(Iterator[LedgerSaleRow], self._stream(q))

    def ledger_refunds(
        self, merchant_id: str, channels: Sequence[str], date_from: date, date_to: date
    ) -> Iterator[LedgerRefundRow]:
        """The channels' online refunds that reached them, by when they last moved, on those local days."""
        start, end = local_bounds(date_from, date_to)
        q = (
            select(*(R[name] for name in LedgerRefundRow.__annotations__))
            .where(
                R.merchant_id == merchant_id,
                R.channel.in_(channels),
                R.method.not_in(OFFLINE_METHODS),
                R.status.in_(("processing", "succeeded", "abnormal", "failed")),
                func.coalesce(R.succeeded_at, R.sent_at, R.created_at) >= start,
                func.coalesce(R.succeeded_at, R.sent_at, R.created_at) < end,
            )
            .order_by(R.created_at, R.id)
        )
        return cast(Iterator[LedgerRefundRow], self._stream(q))

    def _stream(self, q: Executable) -> Iterator[dict[str, Any]]:
        for r in self.c.execute(q):
            yield row_dict(r)
