"""Refunds the channel made without posrefund, recorded from a finance import
(``service/reconciliation/refund_imports.py``): their sales found by the channel's keys a few hundred at a time,
the refunds inserted in one statement and added to their sales under the never-over-refunded guard."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.adapters.db.repositories.refund_table import plan_refunds, write_refund_table
from posrefund.adapters.db.repositories.refunds import INSERT_REFUND, new_case_row
from posrefund.adapters.db.repositories.report_days import local_day, mark_day
from posrefund.adapters.db.repositories.rows import Repository
from posrefund.domain.refund import RefundCase
from posrefund.ports import CustomerRecord, RefundableSale, RefundPlan, RefundStamp, RefundValues, SaleKeys

_S = tables.sales.c
_R = tables.refunds.c
_PER_QUERY = 500
ADD_TO_SALE = Prebuilt(
    update(tables.sales)
    .where(_S.id == bindparam("b_id"), _S.refunded_fen + _S.reserved_fen + bindparam("b_amount") <= _S.amount_fen)
    .values(refunded_fen=_S.refunded_fen + bindparam("b_amount"), refund_count=_S.refund_count + bindparam("b_n"))
)


def _slices(values: Sequence[str]) -> Iterator[list[str]]:
    distinct = sorted(set(values) - {""})
    for at in range(0, len(distinct), _PER_QUERY):
        yield distinct[at : at + _PER_QUERY]


def _row(case: RefundCase) -> dict[str, Any]:
    """A new case's row, with what the channel already did: no customer data (the file holds none)."""
    return {
        **new_case_row(case, CustomerRecord()),
        "method": case.method,
        "submitted": case.submitted,
        "channel_refund_id": case.channel_refund_id,
        "sent_at": case.sent_at,
        "succeeded_at": case.succeeded_at,
    }


class ExternalRefundSql(Repository):
    def plan_refunds(self, merchant_id: str, clean: Any, checked: Sequence[RefundValues]) -> RefundPlan:
        return plan_refunds(self.c, merchant_id, clean, checked)

    def add_refund_table(self, plan: RefundPlan, stamp: RefundStamp) -> bool:
        if plan.count == 0:
            return True
        ok, days = write_refund_table(self.c, plan, stamp)
        for day in days:
            mark_day(self.c, stamp.merchant_id, day)
        return ok

    def sales_by_keys(self, merchant_id: str, keys: Sequence[SaleKeys]) -> dict[SaleKeys, RefundableSale]:
        found: dict[str, dict[str, list[Any]]] = {"rrn": {}, "voucher_no": {}, "order_no": {}}
        for column, wanted in (
            ("rrn", [k.rrn for k in keys]),
            ("voucher_no", [k.voucher_no for k in keys if not k.rrn]),
            ("order_no", [k.order_no for k in keys if not k.rrn and not k.voucher_no]),
        ):
            for part in _slices(wanted):
                q = select(tables.sales).where(_S.merchant_id == merchant_id, tables.sales.c[column].in_(part))
                for r in self.c.execute(q):
                    found[column].setdefault(getattr(r, column), []).append(r)
        out: dict[SaleKeys, RefundableSale] = {}
        for key in keys:
            rows = self._candidates(key, found)
            if len(rows) == 1:
                r = rows[0]
                left = int(r.amount_fen) - int(r.refunded_fen) - int(r.reserved_fen)
                out[key] = RefundableSale(r.id, r.store_id, r.terminal_id, r.channel, r.currency, left)
        return out

    @staticmethod
    def _candidates(key: SaleKeys, found: dict[str, dict[str, list[Any]]]) -> list[Any]:
        """The sales the strongest key given names (a card's terminal and batch narrow its voucher no.)."""
        if key.rrn:
            return found["rrn"].get(key.rrn, [])
        if key.voucher_no:
            rows = found["voucher_no"].get(key.voucher_no, [])
            return [
                r for r in rows if r.terminal_id == key.terminal_id and (not key.batch_no or r.batch_no == key.batch_no)
            ]
        return found["order_no"].get(key.order_no, [])

    def refunds_by_no(self, refund_nos: Sequence[str]) -> dict[str, tuple[str, str, int]]:
        out: dict[str, tuple[str, str, int]] = {}
        for part in _slices(refund_nos):
            q = select(_R.refund_no, _R.merchant_id, _R.sale_id, _R.amount_fen).where(_R.refund_no.in_(part))
            for no, merchant_id, sale_id, amount in self.c.execute(q):
                out[no] = (merchant_id, sale_id, int(amount))
        return out

    def add_refunds(self, cases: Sequence[RefundCase]) -> bool:
        INSERT_REFUND.run(self.c, [_row(case) for case in cases])
        per_sale: dict[str, list[int]] = {}
        for case in cases:
            total = per_sale.setdefault(case.sale_id, [0, 0])
            total[0] += case.amount_fen
            total[1] += 1
        params = [{"b_id": sale_id, "b_amount": amount, "b_n": n} for sale_id, (amount, n) in per_sale.items()]
        if ADD_TO_SALE.run(self.c, params).rowcount != len(params):  # each sale must still hold its refunds
            return False
        for day in sorted({local_day(case.created_at) for case in cases}):
            mark_day(self.c, cases[0].merchant_id, day)
        return True
