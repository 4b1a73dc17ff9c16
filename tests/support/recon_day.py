"""A realistic trading day of one channel, for reconciliation tests: our sales and refunds (rows for the ledger
tables) and the channel's settlement file for the same day, with the faults reconciliation must find planted
among the things a real day always holds and that are no fault at all — and the answer key.

Deterministic by seed. What it plants (``Day.planted``, the answer key ``Day.expected``):
  missing_at_channel  a sale of ours, or a refund of ours that succeeded today, the file does not list
  missing_here        a sale only the channel knows; a refund made at the channel's platform, not through us;
                      (card) a sale we hold as paid that the acquirer voided
  amount_mismatch     a sale or refund line for another amount than ours
  fee_mismatch        a sale's fee off the merchant's fee contract by 2 or 3 fen (1 fen is within the tolerance)
  duplicate_charge    one sale charged twice: the same channel transaction listed again, or a second capture
                      (same voucher no. / order no., new channel reference)
  refund_status_mismatch  a refund the channel paid that we hold as processing; (WeChat) one the channel
                      closed that we hold as succeeded
And what it mixes in that must be reported as nothing (``Day.lookalikes``): repeat purchases (same payer,
amount and terminal minutes apart, two sales, two references), coupons (WeChat 免充值券 and 充值券, Alipay
商家优惠 and 支付宝红包), card sales voided the same day (the void printing its own or the sale's
references, or the pair dropped by the acquirer), partial and multiple refunds (of today's and yesterday's
sales, coupon orders included), refunds still processing on both sides, a refund we hold as succeeded that
WeChat still lists as processing, refunds that failed on our side and never reached the channel.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from posrefund.demo.settlement.synthetic import REFUND_REQUEST
from posrefund.domain.fees import FeePeriod, fee_due
from posrefund.domain.reconciliation import DiscrepancyClass
from tests.support.recon_files import line_of, open_writer

C = DiscrepancyClass
SHANGHAI_OFFSET = timedelta(hours=8)
MERCHANT_NO = "898310058120001"


@dataclass(frozen=True)
class DaySale:
    """One sale as both sides know it. ``merchant_coupon`` is the part of the order the merchant funds (the
    channel does not settle it), ``channel_coupon`` the part the wallet funds (settled as if paid)."""

    id: str
    terminal: tuple[str, str]  # (terminal id, terminal no.)
    voucher_no: str
    rrn: str  # card: 参考号; wallets: the channel's trade no. is made from it
    order_no: str
    amount_fen: int
    at: datetime
    payer: str
    paid_date: date
    merchant_coupon: int = 0
    channel_coupon: int = 0
    card_type: str = ""  # card: debit / credit as the acquirer prints it, "" where it prints none

    @property
    def settled_fen(self) -> int:
        return self.amount_fen - self.merchant_coupon


@dataclass(frozen=True)
class DayRefund:
    """One refund (or card void) of a sale: our status, and what the file says (None: not in the file)."""

    id: str
    sale: DaySale
    refund_no: str
    rrn: str  # the channel's reference of the refund (card RRN, WeChat 微信退款单号)
    voucher_no: str
    amount_fen: int
    at: datetime
    ours: str  # succeeded / processing / failed
    theirs: str | None  # SUCCESS / PROCESSING / CLOSED, None when the file does not list it
    method: str = "refund"
    names_sale: bool = False  # a card void printing the voided sale's RRN and voucher no. instead of its own


@dataclass
class Line:
    """A line to write: when, what, and what it must be reported as (class, key) if anything."""

    at: datetime
    kind: str  # sale / refund / void
    sale: DaySale
    refund: DayRefund | None = None
    amount_fen: int = 0
    fee_fen: int = 0
    status: str = "SUCCESS"
    finding: tuple[str, str] | None = None  # key "line" is replaced by the line number once written
    ref: dict[str, str] = field(default_factory=dict)  # references written instead of the sale's (rrn, batch_no)


@dataclass
class Day:
    source: str
    day: date
    path: Path
    sales: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    expected: set[tuple[str, str]] = field(default_factory=set)
    planted: Counter[str] = field(default_factory=Counter)
    lookalikes: Counter[str] = field(default_factory=Counter)
    lines: int = 0


class DayBuilder:
    """Draws the day once from the seed; ``build`` writes the file and returns the ledger rows and the key."""

    def __init__(
        self,
        source: str,
        day: date,
        merchant: tuple[str, str],
        terminals: list[tuple[str, str]],
        contract: list[FeePeriod],
        seed: int,
        n_sales: int,
    ) -> None:
        self.source, self.day, self.contract = source, day, contract
        self.merchant_id, self.store_id = merchant
        self.terminals = terminals
        self.rng = random.Random(f"{source}-{seed}")
        self.n_sales = n_sales
        self.vouchers: Counter[str] = Counter()
        self.serial = 0
        self.sales: list[DaySale] = []
        self.refunds: list[DayRefund] = []
        self.lines: list[Line] = []
        self.out = Day(source, day, Path())
        self.created = datetime.combine(day + timedelta(days=1), time(1, 0), UTC)

    # ---- the pieces ------------------------------------------------------------------------------------------
    def _next(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:07d}"

    def _voucher(self, terminal_no: str) -> str:
        self.vouchers[terminal_no] += 1
        return f"{self.vouchers[terminal_no]:06d}"

    def _at(self, start_h: int, end_h: int, on: date | None = None) -> datetime:
        seconds = self.rng.randrange(start_h * 3600, end_h * 3600)
        local = datetime.combine(on or self.day, time(0)) + timedelta(seconds=seconds)
        return (local - SHANGHAI_OFFSET).replace(tzinfo=UTC)

    def _amount(self) -> int:
        base = self.rng.choice((380, 1_200, 1_850, 2_600, 4_990, 8_800, 12_800, 26_000, 58_800, 128_000))
        return base + self.rng.randrange(0, 900)

    def _payer(self, k: int) -> str:
        if self.source == "card":
            return f"{('622202', '621700', '622848', '436742')[k % 4]}******{k % 10_000:04d}"
        if self.source == "wechat":
            return f"oUpF8uM{k:08d}AJO_M2pxb1Q9zN"
        return f"1{3 + k % 6}{k % 10}****{k % 10_000:04d}"

    def new_sale(self, at: datetime | None = None, *, like: DaySale | None = None, on: date | None = None) -> DaySale:
        """A sale of ours; ``like`` gives a repeat purchase: same payer, amount and terminal, its own references."""
        terminal = like.terminal if like else self.rng.choice(self.terminals)
        serial = self._next("")
        card_type, amount = self._card(int(serial), like.amount_fen if like else self._amount())
        return DaySale(
            id=f"sal{self.source[:2]}{serial}",
            terminal=terminal,
            voucher_no=self._voucher(terminal[1]),
            rrn=f"{(on or self.day):%m%d}{serial}{self.rng.randrange(10)}",
            order_no=f"SO{(on or self.day):%Y%m%d}{serial}",
            amount_fen=amount,
            at=at or self._at(8, 22, on),
            payer=like.payer if like else self._payer(self.rng.randrange(1_500)),
            paid_date=on or self.day,
            card_type=card_type,
        )

    def _card(self, serial: int, amount: int) -> tuple[str, int]:
        """A card sale's card type (debit, credit, or not printed) and, for one debit sale in four, a large amount
        whose fee the debit cap holds (drawn from the serial: the seed's other draws stay as they were)."""
        if self.source != "card":
            return "", amount
        card_type = ("debit", "credit", "")[serial % 3]
        return card_type, amount * 40 if card_type == "debit" and serial % 4 == 0 else amount

    def fee(self, settled_fen: int, card_type: str = "") -> int:
        """The fee the merchant's contract says for the day (domain/fees.py), as the channel charges it."""
        return fee_due(self.contract, self.source, card_type, self.day, settled_fen).fee_fen or 0

    def sale_line(self, s: DaySale, **kw: Any) -> Line:
        line = Line(s.at, "sale", s, amount_fen=s.amount_fen, fee_fen=self.fee(s.settled_fen, s.card_type))
        for k, v in kw.items():
            setattr(line, k, v)
        self.lines.append(line)
        return line

    def refund(self, s: DaySale, amount: int, ours: str, theirs: str | None, **kw: Any) -> DayRefund:
        at = kw.pop("at", None) or min(s.at + timedelta(minutes=self.rng.randrange(5, 90)), self._end())
        if s.paid_date != self.day:  # a refund today of an earlier day's sale
            at = self._at(9, 22)
        elif at <= s.at:
            at = s.at + timedelta(seconds=30)
        card = self.source == "card"
        serial = self._next("")
        r = DayRefund(
            id=f"rfd{self.source[:2]}{serial}",
            sale=s,
            refund_no=f"RF{self.day:%Y%m%d}{serial}",
            rrn=f"{self.day:%m%d}{serial}{self.rng.randrange(10)}" if card else f"5030{serial}{self.day:%Y%m%d}",
            voucher_no=self._voucher(s.terminal[1]),
            amount_fen=amount,
            at=at,
            ours=ours,
            theirs=theirs,
            **kw,
        )
        self.refunds.append(r)
        if theirs is not None:
            kind = "void" if r.method == "void" else "refund"
            back = -self.fee(self._settled_refund(r), s.card_type)
            self.lines.append(Line(at, kind, s, r, amount, back, theirs))
        return r

    def _settled_refund(self, r: DayRefund) -> int:
        s = r.sale
        return r.amount_fen - s.merchant_coupon * r.amount_fen // s.amount_fen

    def _end(self) -> datetime:
        return self._at(23, 24) - timedelta(minutes=50)

    def plant(self, cls: C, key: str, line: Line | None = None) -> None:
        """A fault the run must report once, as ``cls`` about ``key`` (``"line"``: the line, once numbered)."""
        self.out.planted[cls.value] += 1
        if line is not None and key == "line":
            line.finding = (cls.value, key)
        else:
            self.out.expected.add((cls.value, key))

    def looks(self, name: str, n: int = 1) -> None:
        self.out.lookalikes[name] += n

    # ---- writing ---------------------------------------------------------------------------------------------
    def write(self, path: Path) -> Day:
        """The file in time order (numbering the line-keyed faults), then the ledger rows."""
        self.out.path = path
        out, writer = open_writer(path, self.source, MERCHANT_NO, self.day)
        with out:
            for line in sorted(self.lines, key=lambda x: x.at):
                no = writer.row(line_of(self.source, line))
                if line.finding:
                    self.out.expected.add((line.finding[0], f"line:{no}"))
            writer.close()
        self.out.lines = writer.rows
        refunded: Counter[str] = Counter()
        reserved: Counter[str] = Counter()
        for r in self.refunds:
            if r.ours == "succeeded":
                refunded[r.sale.id] += r.amount_fen
            elif r.ours == "processing":
                reserved[r.sale.id] += r.amount_fen
        counts = Counter(r.sale.id for r in self.refunds if r.ours != "failed")
        ids = (self.merchant_id, self.store_id)
        self.out.sales = [
            sale_row(
                s, ids, self.source, self.fee(s.settled_fen, s.card_type), refunded[s.id], reserved[s.id], counts[s.id]
            )
            for s in self.sales
        ]
        self.out.refunds = [refund_row(r, ids, self.source, self.created) for r in self.refunds]
        return self.out


def sale_row(
    s: DaySale, ids: tuple[str, str], source: str, fee: int, refunded: int, reserved: int, refunds: int
) -> dict[str, Any]:
    """The ``sales`` row of a sale of ours."""
    masked = f"{s.payer[:2]}***{s.payer[-2:]}" if source == "wechat" else s.payer
    return {
        "id": s.id,
        "merchant_id": ids[0],
        "store_id": ids[1],
        "terminal_id": s.terminal[0],
        "voucher_no": s.voucher_no,
        "rrn": s.rrn,
        "batch_no": BATCH,
        "auth_code": "A1B2C3",
        "order_no": s.order_no,
        "channel": source,
        "kind": "sale",
        "amount_fen": s.amount_fen,
        "fee_fen": fee,
        "currency": "CNY",
        "paid_at": s.at,
        "paid_date": s.paid_date,
        "settlement_status": "settled",
        "payer_masked": masked,
        "card_last4": s.payer[-4:] if source == "card" else "",
        "refunded_fen": refunded,
        "reserved_fen": reserved,
        "refund_count": refunds,
        "created_at": s.at,
    }


def refund_row(r: DayRefund, ids: tuple[str, str], source: str, created: datetime) -> dict[str, Any]:
    """The ``refunds`` row of a refund (or void) of ours, in its status; the channel's reference is known once
    the channel answered (always for a card, whose answer is synchronous)."""
    done = r.ours == "succeeded"
    answered = done or source == "card"
    return {
        "id": r.id,
        "merchant_id": ids[0],
        "store_id": ids[1],
        "terminal_id": r.sale.terminal[0],
        "sale_id": r.sale.id,
        "refund_no": r.refund_no,
        "amount_fen": r.amount_fen,
        "status": r.ours,
        "channel": source,
        "requested_by": "cashier",
        **REFUND_REQUEST,
        "created_at": r.at - timedelta(seconds=5),
        "updated_at": r.at,
        "method": r.method,
        "attempts": 1,
        "submitted": r.ours != "failed",
        "channel_refund_id": r.rrn if answered and r.ours != "failed" else "",
        "next_check_at": created + timedelta(days=30) if r.ours == "processing" else None,
        "sent_at": r.at - timedelta(seconds=4),
        "succeeded_at": r.at if done else None,
    }


BATCH = "000123"
