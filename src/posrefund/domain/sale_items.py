"""The item lines of a sale (商品明细) and what a refund of some of their units costs.

A sale may list what was bought: each line a name, a quantity, a unit price and the amount actually paid for the
line (a discount makes it less than quantity × unit price). A refund of items names lines and quantities; its
amount is computed here, never typed by a person, so it can never ask more than the units are worth. The amount
of ``n`` units of a line is ``amount × n // quantity`` counted from the line's start, so every unit but the last
is rounded down and the last unit takes what is left: the units of a line together refund exactly its amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from posrefund.domain.errors import Invalid

MAX_LINES = 200
MAX_NAME = 100
MAX_QUANTITY = 100_000


@dataclass(frozen=True, slots=True)
class SaleLine:
    """One line of a sale as the till printed it; ``refunded``/``reserved`` are units, not fen."""

    line: int
    name: str
    quantity: int
    unit_price_fen: int
    amount_fen: int
    refunded_qty: int = 0
    reserved_qty: int = 0

    @property
    def refundable_qty(self) -> int:
        return self.quantity - self.refunded_qty - self.reserved_qty

    def share_fen(self, units: int) -> int:
        """What the first ``units`` units of the line were paid: the rounding falls on the last unit."""
        return self.amount_fen * units // self.quantity


@dataclass(frozen=True, slots=True)
class ItemRefund:
    """Units of one line a refund covers, and their amount in fen. ``taken_before`` is how many units of the
    line were already refunded or held when it was priced: the hold is made only while that is still so."""

    line: int
    quantity: int
    amount_fen: int
    taken_before: int = 0


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def check_lines(lines: Sequence[SaleLine], sale_amount_fen: int) -> None:
    """The lines a till sends with a sale: numbered 1…n, each with a name, whole positive quantities, an amount
    not above quantity × unit price, and all amounts adding up to the sale's amount."""
    if len(lines) > MAX_LINES:
        raise Invalid("sale.items_too_many", max=MAX_LINES)
    for expected, item in enumerate(lines, start=1):
        if item.line != expected:
            raise Invalid("sale.item_invalid", line=item.line, field="line")
        if not item.name.strip() or len(item.name) > MAX_NAME:
            raise Invalid("sale.item_invalid", line=item.line, field="name")
        if not _whole(item.quantity, 1, MAX_QUANTITY):
            raise Invalid("sale.item_invalid", line=item.line, field="quantity")
        if not _whole(item.unit_price_fen, 0, sale_amount_fen):
            raise Invalid("sale.item_invalid", line=item.line, field="unit_price_fen")
        if not _whole(item.amount_fen, 0, item.quantity * item.unit_price_fen):
            raise Invalid("sale.item_invalid", line=item.line, field="amount_fen")
    if lines and sum(item.amount_fen for item in lines) != sale_amount_fen:
        raise Invalid(
            "sale.items_sum_mismatch",
            items_fen=sum(item.amount_fen for item in lines),
            amount_fen=sale_amount_fen,
        )


def price_items(lines: Iterable[SaleLine], asked: Mapping[int, int]) -> list[ItemRefund]:
    """The refund of ``asked`` (line → units): each line must exist and still hold the units asked."""
    by_line = {item.line: item for item in lines}
    if not asked:
        raise Invalid("refund.items_empty")
    priced: list[ItemRefund] = []
    for number, units in sorted(asked.items()):
        item = by_line.get(number)
        if item is None:
            raise Invalid("refund.item_unknown_line", line=number)
        if not _whole(units, 1, MAX_QUANTITY):
            raise Invalid("refund.item_quantity_invalid", line=number)
        if units > item.refundable_qty:
            raise Invalid(
                "refund.item_over_quantity",
                line=number,
                name=item.name,
                quantity=units,
                refundable_qty=item.refundable_qty,
            )
        before = item.refunded_qty + item.reserved_qty
        amount = item.share_fen(before + units) - item.share_fen(before)
        priced.append(ItemRefund(number, units, amount, before))
    return priced


def numbered(items: Iterable[tuple[str, int, int, int | None]]) -> tuple[SaleLine, ...]:
    """Lines numbered 1… in the order given, from (name, quantity, unit price, amount paid or None for
    quantity × unit price)."""
    return tuple(
        SaleLine(n, name, qty, unit, qty * unit if amount is None else amount)
        for n, (name, qty, unit, amount) in enumerate(items, start=1)
    )


def parse_items_text(text: str) -> tuple[SaleLine, ...]:
    """A sale file's ``items`` column: ``name:quantity:unit_price_fen[:amount_fen]`` lines joined by ``;``
    (a name may not hold ``:`` or ``;``). Raises ValueError on a malformed line."""
    out: list[tuple[str, int, int, int | None]] = []
    for chunk in filter(None, (part.strip() for part in text.split(";"))):
        fields = chunk.split(":")
        if len(fields) not in (3, 4):
            raise ValueError(f"item line {chunk!r}: name:quantity:unit_price_fen[:amount_fen]")
        amount = int(fields[3]) if len(fields) == 4 else None
        out.append((fields[0].strip(), int(fields[1]), int(fields[2]), amount))
    return numbered(out)
