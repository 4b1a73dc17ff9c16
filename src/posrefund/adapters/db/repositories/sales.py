"""Sales as the terminals recorded them, and the refundable amount each one still holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.bulk import copy_skipping_known
from posrefund.adapters.db.prebuilt import Prebuilt
from posrefund.adapters.db.repositories.policies import parse_policy
from posrefund.adapters.db.repositories.report_days import mark_day
from posrefund.adapters.db.repositories.rows import Repository, columns_of, dataclass_columns, equal_where_given
from posrefund.adapters.db.repositories.sale_table import sale_values, write_sale_table
from posrefund.domain.policy import RefundPolicy
from posrefund.domain.sale import Channel, Sale, SaleKind, SettlementStatus
from posrefund.ports import SaleQuery, SaleStamp

# Statements on the refund hot path are built once (building them per call, with literal values, cost ~3 ms per
# refund request) and, on SQLite, run straight on the driver's cursor (see prebuilt.py: ~45 µs saved each).
_S = tables.sales.c
GET_SALE = Prebuilt(select(tables.sales).where(_S.id == bindparam("b_id"), _S.merchant_id == bindparam("b_mid")))
_P = tables.policies.c
# A refund request needs the sale and its merchant's refund policy: both in one round trip.
GET_SALE_AND_POLICY = Prebuilt(
    select(
        tables.sales,
        select(_P.document).where(_P.merchant_id == _S.merchant_id).scalar_subquery().label("policy_document"),
    ).where(_S.id == bindparam("b_id"), _S.merchant_id == bindparam("b_mid"))
)
RESERVE = Prebuilt(
    update(tables.sales)
    .where(
        _S.id == bindparam("b_id"),
        _S.refunded_fen + _S.reserved_fen + bindparam("b_amount") <= _S.amount_fen,
        _S.refund_count < bindparam("b_max"),
    )
    .values(reserved_fen=_S.reserved_fen + bindparam("b_amount"), refund_count=_S.refund_count + 1)
)
RELEASE = Prebuilt(
    update(tables.sales)
    .where(_S.id == bindparam("b_id"), _S.reserved_fen >= bindparam("b_amount"))
    .values(reserved_fen=_S.reserved_fen - bindparam("b_amount"), refund_count=_S.refund_count - 1)
)
SETTLE = Prebuilt(
    update(tables.sales)
    .where(_S.id == bindparam("b_id"), _S.reserved_fen >= bindparam("b_amount"))
    .values(reserved_fen=_S.reserved_fen - bindparam("b_amount"), refunded_fen=_S.refunded_fen + bindparam("b_amount"))
)
_SALE_COLUMNS = dataclass_columns(Sale, tables.sales)
# A batch of imported sales; a sale already recorded (either unique key) is skipped, not an error.
ADD_SALES_SQLITE = Prebuilt(insert(tables.sales).prefix_with("OR IGNORE"))


def sale_from_row(r: Any) -> Sale:
    m = r._mapping
    return Sale(
        **{
            **columns_of(m, _SALE_COLUMNS),
            "channel": Channel(m["channel"]),
            "kind": SaleKind(m["kind"]),
            "settlement_status": SettlementStatus(m["settlement_status"]),
        }
    )


class SaleSql(Repository):
    def __init__(self, conn: Connection, local_date: Callable[[datetime], date]) -> None:
        super().__init__(conn)
        self._local_date = local_date

    def add_sale(self, sale: Sale, created_at: datetime) -> bool:
        """Insert unless the sale is already recorded (a card's terminal, batch and voucher no.; a wallet sale
        without a voucher no., the merchant's order no.); False when it was."""
        if sale.voucher_no:
            same = (_S.terminal_id == sale.terminal_id, _S.batch_no == sale.batch_no, _S.voucher_no == sale.voucher_no)
        else:
            same = (_S.merchant_id == sale.merchant_id, _S.voucher_no == "", _S.order_no == sale.order_no)
        dup = self.c.execute(select(_S.id).where(*same)).first()
        if dup is not None:
            return False
        row = self._columns(sale)
        self.c.execute(insert(tables.sales).values(**row, created_at=created_at))
        mark_day(self.c, sale.merchant_id, row["paid_date"])
        return True

    def add_sales(self, sales: Sequence[Sale], created_at: datetime) -> int:
        """Insert a batch of sales in one statement per few thousand rows, skipping those already recorded (either
        unique key); how many were new. The report days of the batch are marked once each."""
        if not sales:
            return 0
        rows = [{**self._columns(sale), "created_at": created_at} for sale in sales]
        if self.c.dialect.name == "sqlite":  # straight on the driver's cursor; it counts the rows it inserted
            inserted = ADD_SALES_SQLITE.run(self.c, rows).rowcount
        else:  # COPY to a session-local twin, then moved in one INSERT … SELECT that skips what is known
            inserted = copy_skipping_known(self.c, tables.sales, rows)
        for day in sorted({row["paid_date"] for row in rows}):
            mark_day(self.c, sales[0].merchant_id, day)
        return inserted

    def add_sale_table(self, clean: Any, checked: Sequence[tuple[int, Sale]], stamp: SaleStamp) -> int:
        """An import batch: the rows its reader cleared in bulk and the sales checked one at a time, written in
        the file's order in one statement that skips what is already recorded; how many were new."""
        inserted, days = write_sale_table(self.c, clean, checked, stamp, self._local_date)
        for day in days:
            mark_day(self.c, stamp.merchant_id, day)
        return inserted

    def _columns(self, sale: Sale) -> dict[str, Any]:
        """A new sale's row: nothing refunded or held yet; the local date and last four digits for search."""
        return {
            **sale_values(sale),
            "paid_at": sale.paid_at,
            "paid_date": self._local_date(sale.paid_at),
            "refunded_fen": 0,
            "reserved_fen": 0,
            "refund_count": 0,
            "channel_trade_no": sale.channel_trade_no,
        }

    def get_sale(self, merchant_id: str, sale_id: str) -> Sale | None:
        r = GET_SALE.run(self.c, {"b_id": sale_id, "b_mid": merchant_id}).first()
        return sale_from_row(r) if r else None

    def get_sale_and_policy(self, merchant_id: str, sale_id: str) -> tuple[Sale, RefundPolicy | None] | None:
        r = GET_SALE_AND_POLICY.run(self.c, {"b_id": sale_id, "b_mid": merchant_id}).first()
        if r is None:
            return None
        document = r._mapping["policy_document"]
        return sale_from_row(r), parse_policy(document) if document else None

    def find_sales(self, merchant_id: str, query: SaleQuery) -> list[Sale]:
        conds = [
            _S.merchant_id == merchant_id,
            *equal_where_given(
                (_S.voucher_no, query.voucher_no),
                (_S.order_no, query.order_no),
                (_S.card_last4, query.last4),
                (_S.amount_fen, query.amount_fen),
                (_S.paid_date, query.local_date),
                (_S.terminal_id, query.terminal_id),
            ),
        ]
        q = select(tables.sales).where(and_(*conds)).order_by(_S.paid_at.desc(), _S.id).limit(query.limit)
        return [sale_from_row(r) for r in self.c.execute(q)]

    def reserve(self, sale_id: str, amount_fen: int, max_refunds: int) -> bool:
        """Atomically hold ``amount_fen`` of the sale; False when it would overdraw or pass the count."""
        result = RESERVE.run(self.c, {"b_id": sale_id, "b_amount": amount_fen, "b_max": max_refunds})
        return result.rowcount == 1

    def release(self, sale_id: str, amount_fen: int) -> None:
        if RELEASE.run(self.c, {"b_id": sale_id, "b_amount": amount_fen}).rowcount != 1:
            raise RuntimeError(f"reservation of sale {sale_id} smaller than {amount_fen}")

    def void_sale(self, merchant_id: str, sale_id: str) -> bool:
        q = (
            update(tables.sales)
            .where(_S.id == sale_id, _S.merchant_id == merchant_id, _S.reserved_fen == 0, _S.refunded_fen == 0)
            .values(settlement_status=SettlementStatus.VOIDED.value)
        )
        return self.c.execute(q).rowcount == 1

    def settle_refund(self, sale_id: str, amount_fen: int) -> None:
        if SETTLE.run(self.c, {"b_id": sale_id, "b_amount": amount_fen}).rowcount != 1:
            raise RuntimeError(f"reservation of sale {sale_id} smaller than {amount_fen}")
