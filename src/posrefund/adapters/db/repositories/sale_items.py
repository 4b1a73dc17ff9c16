"""A sale's item lines and the units each refund holds: the same conditional updates as the sale's amounts, so
no race can refund a unit twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import insert, select, update

from posrefund.adapters.db import tables
from posrefund.adapters.db.repositories.rows import Repository
from posrefund.domain.sale_items import ItemRefund, SaleLine

_L = tables.sale_items.c
_R = tables.refund_items.c
_IDS_PER_QUERY = 500


def _line_row(sale_id: str, item: SaleLine) -> dict[str, object]:
    return {
        "sale_id": sale_id,
        "line": item.line,
        "name": item.name,
        "quantity": item.quantity,
        "unit_price_fen": item.unit_price_fen,
        "amount_fen": item.amount_fen,
    }


class SaleItemSql(Repository):
    def add_lines(self, sale_id: str, lines: Sequence[SaleLine]) -> None:
        if lines:
            self.c.execute(insert(tables.sale_items), [_line_row(sale_id, item) for item in lines])

    def add_lines_of_recorded(self, lines: Mapping[str, Sequence[SaleLine]]) -> None:
        """The item lines of those of these sales that are recorded: an import's batch skips a sale already
        recorded under another id, whose lines it must not add to (the new ids of the batch are the ones found)."""
        ids = [sale_id for sale_id, items in lines.items() if items]
        recorded: set[str] = set()
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start : start + _IDS_PER_QUERY]
            recorded |= set(self.c.execute(select(tables.sales.c.id).where(tables.sales.c.id.in_(chunk))).scalars())
        rows = [_line_row(sale_id, item) for sale_id in ids if sale_id in recorded for item in lines[sale_id]]
        if rows:
            self.c.execute(insert(tables.sale_items), rows)

    def lines(self, sale_id: str) -> list[SaleLine]:
        rows = self.c.execute(select(tables.sale_items).where(_L.sale_id == sale_id).order_by(_L.line))
        return [
            SaleLine(
                line=r.line,
                name=r.name,
                quantity=r.quantity,
                unit_price_fen=r.unit_price_fen,
                amount_fen=r.amount_fen,
                refunded_qty=r.refunded_qty,
                reserved_qty=r.reserved_qty,
            )
            for r in rows
        ]

    def hold(self, sale_id: str, priced: Sequence[ItemRefund]) -> bool:
        """Hold the units of each line, each only while the line is as it was when priced; False when another
        refund took units of a line in between (the caller's transaction is then rolled back)."""
        for item in priced:
            result = self.c.execute(
                update(tables.sale_items)
                .where(
                    _L.sale_id == sale_id,
                    _L.line == item.line,
                    _L.refunded_qty + _L.reserved_qty == item.taken_before,
                    _L.refunded_qty + _L.reserved_qty + item.quantity <= _L.quantity,
                )
                .values(reserved_qty=_L.reserved_qty + item.quantity)
            )
            if result.rowcount != 1:
                return False
        return True

    def add_refund_items(self, case_id: str, sale_id: str, priced: Sequence[ItemRefund]) -> None:
        if priced:
            self.c.execute(
                insert(tables.refund_items),
                [
                    {
                        "case_id": case_id,
                        "line": item.line,
                        "sale_id": sale_id,
                        "quantity": item.quantity,
                        "amount_fen": item.amount_fen,
                    }
                    for item in priced
                ],
            )

    def refund_items(self, case_id: str) -> list[ItemRefund]:
        rows = self.c.execute(select(tables.refund_items).where(_R.case_id == case_id).order_by(_R.line))
        return [ItemRefund(r.line, r.quantity, r.amount_fen) for r in rows]

    def settle(self, case_id: str, *, refunded: bool) -> None:
        """The case became final: its held units become refunded, or go back to the line when it let go."""
        for item in self.refund_items_of_sale(case_id):
            sale_id, line, quantity = item
            values = (
                {"reserved_qty": _L.reserved_qty - quantity, "refunded_qty": _L.refunded_qty + quantity}
                if refunded
                else {"reserved_qty": _L.reserved_qty - quantity}
            )
            result = self.c.execute(
                update(tables.sale_items)
                .where(_L.sale_id == sale_id, _L.line == line, _L.reserved_qty >= quantity)
                .values(**values)
            )
            if result.rowcount != 1:
                raise RuntimeError(f"units held on line {line} of sale {sale_id} fewer than {quantity}")

    def refund_items_of_sale(self, case_id: str) -> list[tuple[str, int, int]]:
        rows = self.c.execute(select(_R.sale_id, _R.line, _R.quantity).where(_R.case_id == case_id))
        return [(r.sale_id, r.line, r.quantity) for r in rows]
