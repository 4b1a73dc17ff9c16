"""The till check at the end of a shift (日结 / 现金盘点): what the drawer should hold, what was counted, and
whether the difference calls for an investigation.

A shift is one cashier at one terminal between the instant the drawer was opened with its float and the instant
it was counted: the terminal's drawer is the physical thing counted, the cashier the person accountable for it.
Its cash is every cash sale the terminal took in [opened, closed) and every cash refund it paid out then.
Expected = float + cash sales − cash refunds; the difference is counted − expected (negative: a shortfall).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from posrefund.domain.errors import Invalid

# Renminbi notes and coins still handed over at a till, in fen: 100, 50, 20, 10, 5, 1 yuan, 5 and 1 jiao.
DENOMINATIONS = (10_000, 5_000, 2_000, 1_000, 500, 100, 50, 10)
MAX_SHIFT = timedelta(hours=24)
MAX_FEN = 10**11
MAX_PIECES = 100_000
DEFAULT_TOLERANCE_FEN = 500  # 5 yuan, until the merchant sets its own


def _amount(value: int, field: str) -> int:
    if value < 0:
        raise Invalid("till.negative_amount", field=field)
    if value > MAX_FEN:
        raise Invalid("request.field_too_long", field=field, max=MAX_FEN)
    return value


def counted_total(counted_fen: int | None, denominations: Mapping[str, Any] | None) -> tuple[int, dict[str, int]]:
    """The counted cash: the total as entered, or the sum of pieces per face value (exactly one of the two)."""
    if (counted_fen is None) == (denominations is None or not denominations):
        raise Invalid("till.count_required")
    if counted_fen is not None:
        return _amount(counted_fen, "counted_fen"), {}
    pieces: dict[str, int] = {}
    for face, count in (denominations or {}).items():
        if not str(face).isdigit() or int(face) not in DENOMINATIONS:
            raise Invalid("till.bad_denomination", value=str(face)[:12])
        if not isinstance(count, int) or isinstance(count, bool):
            raise Invalid("till.bad_denomination", value=str(face)[:12])
        if count < 0:
            raise Invalid("till.negative_amount", field=f"denominations.{face}")
        if count > MAX_PIECES:
            raise Invalid("request.field_too_long", field=f"denominations.{face}", max=MAX_PIECES)
        if count:
            pieces[str(int(face))] = count
    return sum(int(face) * n for face, n in pieces.items()), pieces


def check_window(opened_at: datetime, closed_at: datetime, now: datetime) -> None:
    """A shift closes after it opens, not in the future, and lasts at most a day."""
    if opened_at.tzinfo is None or closed_at.tzinfo is None:
        raise Invalid("till.bad_window")
    if not opened_at < closed_at <= now or closed_at - opened_at > MAX_SHIFT:
        raise Invalid("till.bad_window")


@dataclass(frozen=True, slots=True)
class TillFigures:
    float_fen: int
    counted_fen: int
    cash_sales_fen: int
    cash_refunds_fen: int
    tolerance_fen: int

    @property
    def expected_fen(self) -> int:
        return self.float_fen + self.cash_sales_fen - self.cash_refunds_fen

    @property
    def difference_fen(self) -> int:
        """Counted − expected: negative is a shortfall (cash missing), positive an overage (too much taken)."""
        return self.counted_fen - self.expected_fen

    @property
    def beyond_tolerance(self) -> bool:
        """Either way: an overage is as much a sign of a wrong charge (错收) as a shortfall of a wrong payout."""
        return abs(self.difference_fen) > self.tolerance_fen


def float_amount(value: int) -> int:
    return _amount(value, "float_fen")


def tolerance_amount(value: int) -> int:
    return _amount(value, "tolerance_fen")
