"""What a demo settlement file is made of: the channel's view of a sale and a refund, the faults to inject, and
the few rules both generators share (which sales carry a fault, a payer, a twin charge, a stranger's sale)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
BINS = ("622202", "621700", "622848", "436742")
Expected = set[tuple[str, str]]  # (class, "sale:<id>" | "refund:<id>" | "line:<line no.>")


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


@dataclass(frozen=True)
class Tx:
    """One sale as the channel saw it."""

    sale_id: str  # ours ("" when the channel has a sale we never recorded)
    terminal_no: str
    voucher_no: str
    rrn: str
    order_no: str
    amount_fen: int
    at: datetime
    payer: str  # card: masked PAN; WeChat: openid; Alipay: masked account
    batch_no: str = "000001"
    auth_code: str = "A1B2C3"


@dataclass(frozen=True)
class RefundTx:
    refund_id: str
    refund_no: str
    channel_refund_id: str
    amount_fen: int
    at: datetime
    sale: Tx
    status: str = "SUCCESS"  # what the channel's file says
    void: bool = False


@dataclass
class Faults:
    """How many of each fault to inject."""

    missing_here: int = 0
    missing_at_channel: int = 0
    amount_mismatch: int = 0
    fee_mismatch: int = 0
    duplicate_charge: int = 0
    refund_status_mismatch: int = 0
    processing: int = 0  # WeChat refunds still PROCESSING in the file: must NOT be reported

    def total(self) -> int:
        return (
            self.missing_here
            + self.missing_at_channel
            + self.amount_mismatch
            + self.fee_mismatch
            + self.duplicate_charge
            + self.refund_status_mismatch
        )


@dataclass(frozen=True)
class SaleFaults:
    """Which sales (by position) the file leaves out, shows with another amount or fee, or charges twice;
    ``rest`` keeps the positions left over, in the order they were drawn."""

    missing: set[int]
    amount_bad: set[int]
    fee_bad: set[int]
    dups: set[int]
    rest: list[int]

    @staticmethod
    def sizes(faults: Faults) -> list[int]:
        """How many sales each fault takes, in the order they are cut from the drawn positions."""
        return [faults.missing_at_channel, faults.amount_mismatch, faults.fee_mismatch, faults.duplicate_charge]

    @classmethod
    def drawn(cls, order: list[int], faults: Faults) -> SaleFaults:
        """Cut an already shuffled (or sampled) list of positions into the faults, in a fixed order."""
        cuts = cut(order, cls.sizes(faults))
        return cls(set(cuts[0]), set(cuts[1]), set(cuts[2]), set(cuts[3]), cuts[4])


def cut(items: list[int], sizes: list[int]) -> list[list[int]]:
    """Consecutive slices of ``sizes`` lengths, then the rest."""
    out: list[list[int]] = []
    pos = 0
    for n in sizes:
        out.append(items[pos : pos + n])
        pos += n
    out.append(items[pos:])
    return out


def payer_for(source: str, i: int) -> str:
    """Payers built so that no two ordinary sales look like a duplicate charge: the same payer comes back on
    the same terminal only 10,000 sales later."""
    if source == "card":
        return f"{BINS[(i // 10_000) % 4]}******{i % 10_000:04d}"
    if source == "wechat":
        return f"oUpF{i % 10_000:04d}x{(i // 10_000) % 100:02d}{i % 100:02d}"
    return f"1{3 + (i // 10_000) % 6}*******{i % 100:02d}{(i // 100) % 100:02d}"


def charged_twice(tx: Tx, *, rrn: str, seconds: int) -> Tx:
    """The channel capturing the same sale again ``seconds`` later: the same voucher no. on the same terminal,
    the same order no. and amount, under a new channel reference (RRN; the wallets' trade no. is made from
    it). A duplicate charge. A second sale of the same payer and amount (its own voucher and order no.) is a
    repeat purchase, not this."""
    return Tx(
        sale_id=tx.sale_id,
        terminal_no=tx.terminal_no,
        voucher_no=tx.voucher_no,
        rrn=rrn,
        order_no=tx.order_no,
        amount_fen=tx.amount_fen,
        at=tx.at + timedelta(seconds=seconds),
        payer=tx.payer,
        batch_no=tx.batch_no,
        auth_code=tx.auth_code,
    )


def stranger(
    source: str, k: int, *, terminal_no: str, order_no: str, amount_fen: int, at: datetime, payer_no: int
) -> Tx:
    """The ``k``-th sale the channel charged and posrefund never recorded (``missing_here``)."""
    return Tx(
        sale_id="",
        terminal_no=terminal_no,
        voucher_no=f"{800_000 + k:06d}",
        rrn=f"X{k:011d}",
        order_no=order_no,
        amount_fen=amount_fen,
        at=at,
        payer=payer_for(source, payer_no),
    )
