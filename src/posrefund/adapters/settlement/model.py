"""What every settlement-file parser yields: one normalised line, or the reason a line was refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
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
    card_type: str = ""  # debit / credit / foreign / wallet when the file says which paid (the fee depends on it)


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be understood; reported so finance can fix it, without stopping the file."""

    line_no: int
    reason: str
    text_excerpt: str
    cut_short: bool = False  # fewer fields than the header: the line's end is missing


ParsedLine = SettlementLine | BadLine

_BEIJING = timezone(timedelta(hours=8))
_KEY_CHARS = 200


def line_key(line: SettlementLine) -> str:
    """The line by the channel's own references, the same in every file that lists it (a bill downloaded again,
    one covering yesterday and today): WeChat 微信订单号 (商户订单号) + 退款单号, Alipay 支付宝交易号 (商户订单号) +
    退款批次号, the acquirer's settlement date + terminal + trace (凭证号) + reference no. A line naming none of
    them is keyed by its text."""
    if line.source == "card":
        refs: tuple[str, ...] = (line.terminal_no, line.voucher_no, line.rrn)
        named = bool(line.voucher_no or line.rrn)
        refs = (f"{line.occurred_at.astimezone(_BEIJING):%Y%m%d}", *refs)
    else:
        refund_no = (line.channel_refund_no or line.merchant_refund_no) if line.kind == "refund" else ""
        refs = (line.channel_trade_no or line.merchant_order_no, refund_no)
        named = bool(refs[0]) and (line.kind != "refund" or bool(refund_no))
    if not named:
        refs = ("raw", line.raw_hash)
    return "|".join((line.source, line.kind, *refs))[:_KEY_CHARS]


@dataclass
class Tally:
    """What a file says of itself in its summary or footer, and what its lines add up to, filled by the parser
    as it reads; ``totals.checked`` compares the two once the last line is read.

    Totals are named as the file names them (``应结订单总金额``, ``#交易合计 笔数``, ``合计 交易金额``): fen, or a
    count of lines for the names in ``counts``. ``grand_count`` names the total that counts every data line.
    """

    summary: str  # what the file ends with, named for the refusal when it is missing
    summary_line: int = 0  # 0: not (or not wholly) read
    claimed: dict[str, int] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    counts: set[str] = field(default_factory=set)
    grand_count: str = ""
    # A second reading some copies of a format print (WeChat's order totals over every line, refund lines too).
    also: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, value: int, *, also: bool = False) -> None:
        """Add to the total (``also``: only to its second reading)."""
        into = self.also if also else self.counted
        into[name] = into.get(name, 0) + value

    def claim(self, line_no: int, totals: dict[str, int]) -> None:
        self.summary_line, self.claimed = line_no, totals
