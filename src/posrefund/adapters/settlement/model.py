"""What every settlement-file parser yields: one normalised line, or the reason a line was refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Source = Literal["card", "wechat", "alipay"]
Kind = Literal["sale", "refund", "void"]


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One transaction as the channel settled it, in the shape reconciliation compares against our refunds.

    ``amount_fen`` is always positive (``kind`` carries the direction, whatever sign the file used) and is the
    amount our ledger holds: the order's or the requested refund's whole amount, coupons included;
    ``settled_fen`` is what the channel pays out for it before its fee, less the discounts the merchant funds
    (the fee is charged on that). ``fee_fen`` is what the channel charged the merchant, negative when a fee is
    returned on a refund.
    ``payer_masked`` never holds a full card number. ``raw_hash`` is the SHA-256 of the raw line
    (line ending excluded) so the same line imported twice is recognised.
    """

    source: Source
    kind: Kind
    line_no: int
    occurred_at: datetime
    amount_fen: int
    fee_fen: int
    currency: str
    merchant_no: str
    terminal_no: str
    voucher_no: str
    rrn: str
    channel_trade_no: str
    merchant_order_no: str
    channel_refund_no: str
    merchant_refund_no: str
    refund_status: str
    payer_masked: str
    raw_hash: str
    batch_no: str = ""
    auth_code: str = ""
    settled_fen: int | None = None  # None: the channel settles ``amount_fen`` itself (no merchant-funded discount)


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be understood; reported so finance can fix it, without stopping the file."""

    line_no: int
    reason: str
    text_excerpt: str


ParsedLine = SettlementLine | BadLine
