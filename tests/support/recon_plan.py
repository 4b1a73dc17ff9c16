"""What a realistic day holds, drawn on a ``DayBuilder``: the ordinary trade, the look-alikes that are no fault
and the planted faults (see ``tests/support/recon_day.py``). Counts scale with the day's sales."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from posrefund.domain.fees import FeePeriod
from posrefund.domain.reconciliation import DiscrepancyClass
from tests.support.recon_day import Day, DayBuilder, DaySale

C = DiscrepancyClass


def build_day(
    path: Path,
    source: str,
    day: date,
    merchant: tuple[str, str],
    terminals: list[tuple[str, str]],
    contract: list[FeePeriod],
    *,
    seed: int = 2026,
    n_sales: int = 2_400,
) -> Day:
    """Draw and write one day; the caller puts ``Day.sales`` and ``Day.refunds`` in the ledger and imports
    ``path``. The same seed gives the same day, byte for byte."""
    b = DayBuilder(source, day, merchant, terminals, contract, seed, n_sales)
    per_mille = max(1, n_sales // 1_000)
    sales = _trade(b)
    pool = sales[:]
    b.rng.shuffle(pool)
    _sale_faults(b, pool, 5 * per_mille)
    if source == "card":
        _voids(b, pool, per_mille)
    _refunds(b, pool, per_mille)
    _strangers(b, 5 * per_mille)
    return b.write(path)


def _ours(b: DayBuilder, s: DaySale) -> DaySale:
    b.sales.append(s)
    return s


def _trade(b: DayBuilder) -> list[DaySale]:
    """The day's sales, every one in the file, with coupons on wallet orders and repeat purchases."""
    sales = []
    for _ in range(b.n_sales):
        s = b.new_sale()
        if b.source != "card" and b.rng.random() < 0.12 and s.amount_fen > 1_500:
            coupon = b.rng.choice((300, 500, 1_000))
            merchant = b.rng.random() < 0.6
            s = replace(s, merchant_coupon=coupon if merchant else 0, channel_coupon=0 if merchant else coupon)
            b.looks("coupon_merchant_funded" if merchant else "coupon_channel_funded")
        sales.append(_ours(b, s))
    for s in b.rng.sample(sales, len(sales) // 40):
        again = _ours(b, b.new_sale(s.at + timedelta(seconds=b.rng.randrange(40, 360)), like=s))
        b.sale_line(again)
        b.looks("repeat_purchase")
    return sales


def _take(pool: list[DaySale], n: int) -> list[DaySale]:
    taken = pool[:n]
    del pool[:n]
    return taken


def _sale_faults(b: DayBuilder, pool: list[DaySale], n: int) -> None:
    """Sales the file leaves out, shows for another amount or fee, or charges twice; the rest listed as sold."""
    for s in _take(pool, n):
        b.plant(C.MISSING_AT_CHANNEL, f"sale:{s.id}")
    for s in _take(pool, n):
        b.sale_line(s, amount_fen=s.amount_fen + b.rng.choice((-100, 1, 99, 1_000)))
        b.plant(C.AMOUNT_MISMATCH, f"sale:{s.id}")
    for s in _take(pool, n):
        b.sale_line(s, fee_fen=b.fee(s.settled_fen, s.card_type) + b.rng.choice((-3, -2, 2, 3)))
        b.plant(C.FEE_MISMATCH, f"sale:{s.id}")
    for s in _take(pool, n):  # a fen off the contract: the acquirer's own rounding, within the tolerance
        b.sale_line(s, fee_fen=b.fee(s.settled_fen, s.card_type) + b.rng.choice((-1, 1)))
        b.looks("fee_within_tolerance")
    for k, s in enumerate(_take(pool, n)):
        b.sale_line(s)
        if k % 2 == 0 and b.source == "card":  # the acquirer lists one transaction again, in a later batch
            b.sale_line(s, ref={"batch_no": "000124"})
        elif k % 2 == 0:  # the wallet lists one transaction again, with its completion time
            b.sale_line(s, at=s.at + timedelta(seconds=3))
        else:  # a second capture of the same sale: same voucher / order no., a new channel reference
            b.sale_line(s, at=s.at + timedelta(seconds=35), ref={"rrn": "9" + s.rrn[1:]})
        b.plant(C.DUPLICATE_CHARGE, f"sale:{s.id}")
    for s in pool:
        b.sale_line(s)


def _voids(b: DayBuilder, pool: list[DaySale], k: int) -> None:
    """Card sales voided the same day: the 消费 + 消费撤销 pair, printed with the void's own references or the
    sale's, or dropped by the acquirer; and the faults around them."""
    for n, s in enumerate(_take(pool, 40 * k)):
        at = s.at + timedelta(seconds=b.rng.randrange(60, 1_800))
        if n % 4 == 3:  # the pair netted out of the file by the acquirer: neither line
            b.lines[:] = [x for x in b.lines if x.sale is not s]
            b.refund(s, s.amount_fen, "succeeded", None, method="void", at=at)
            b.looks("void_pair_dropped")
            continue
        b.refund(s, s.amount_fen, "succeeded", "SUCCESS", method="void", at=at, names_sale=n % 4 == 2)
        b.looks("void_pair_naming_the_sale" if n % 4 == 2 else "void_pair")
    for s in _take(pool, 3 * k):  # voided at the terminal, and we still hold the sale as paid
        line = b.refund(s, s.amount_fen, "succeeded", "SUCCESS", method="void")
        b.refunds.remove(line)
        b.plant(C.MISSING_HERE, "line", b.lines[-1])
    for s in _take(pool, 3 * k):  # our void, which the acquirer never received: the sale stands there
        r = b.refund(s, s.amount_fen, "succeeded", None, method="void")
        b.plant(C.MISSING_AT_CHANNEL, f"refund:{r.id}")


def _refunds(b: DayBuilder, pool: list[DaySale], k: int) -> None:
    """Partial, full and multiple refunds of today's and yesterday's sales, in every state, and their faults."""
    wechat = b.source == "wechat"
    coupons = [s for s in pool if s.merchant_coupon or s.channel_coupon][: 6 * k]
    pool[:] = [s for s in pool if s not in coupons]
    for s in _take(pool, 35 * k) + coupons:
        b.refund(s, _part(b, s.amount_fen), "succeeded", "SUCCESS")
        b.looks("partial_refund")
    for s in _take(pool, 12 * k):
        b.refund(s, s.amount_fen, "succeeded", "SUCCESS")
        b.looks("full_refund")
    for s in _take(pool, 12 * k):
        _several(b, s)
    for _ in range(20 * k):
        s = _ours(b, b.new_sale(on=b.day - timedelta(days=1)))
        _several(b, s) if b.rng.random() < 0.3 else b.refund(s, _part(b, s.amount_fen), "succeeded", "SUCCESS")
        b.looks("refund_of_yesterdays_sale")
    for s in _take(pool, 6 * k):
        b.refund(s, _part(b, s.amount_fen), "processing", "PROCESSING" if wechat else None)
        b.looks("refund_processing_both_sides")
    for s in _take(pool, 4 * k):
        b.refund(s, _part(b, s.amount_fen), "failed", None)
        b.looks("refund_failed_never_sent")
    if wechat:
        for s in _take(pool, 4 * k):
            b.refund(s, _part(b, s.amount_fen), "succeeded", "PROCESSING")
            b.looks("refund_done_here_processing_there")
    _refund_faults(b, pool, 4 * k)


def _several(b: DayBuilder, s: DaySale) -> None:
    """Two or three partial refunds of one order, each its own refund no."""
    left = s.amount_fen
    for _ in range(b.rng.choice((2, 3))):
        part = _part(b, left)
        if part <= 0:
            break
        b.refund(s, part, "succeeded", "SUCCESS")
        left -= part
    b.looks("multiple_refunds")


def _part(b: DayBuilder, amount: int) -> int:
    if amount < 2:
        return amount
    return max(1, min(amount - 1, b.rng.choice((amount // 2, amount // 3, 500, 1_000, amount // 10))))


def _refund_faults(b: DayBuilder, pool: list[DaySale], n: int) -> None:
    for s in _take(pool, n):
        r = b.refund(s, _part(b, s.amount_fen), "succeeded", None)
        b.plant(C.MISSING_AT_CHANNEL, f"refund:{r.id}")
    for s in _take(pool, n):
        r = b.refund(s, _part(b, s.amount_fen), "succeeded", "SUCCESS")
        b.lines[-1].amount_fen = r.amount_fen + 1
        b.plant(C.AMOUNT_MISMATCH, f"refund:{r.id}")
    for s in _take(pool, n):  # the channel paid it; our answer was lost on the way
        r = b.refund(s, _part(b, s.amount_fen), "processing", "SUCCESS")
        b.plant(C.REFUND_STATUS_MISMATCH, f"refund:{r.id}")
    if b.source == "wechat":
        for s in _take(pool, n):  # the channel closed it after seven days without funds; we think it paid
            r = b.refund(s, _part(b, s.amount_fen), "succeeded", "CLOSED")
            b.plant(C.REFUND_STATUS_MISMATCH, f"refund:{r.id}")
    for s in _take(pool, n):  # refunded on the channel's own platform, not through us
        b.refund(s, _part(b, s.amount_fen), "succeeded", "SUCCESS")
        b.refunds.pop()
        b.plant(C.MISSING_HERE, "line", b.lines[-1])


def _strangers(b: DayBuilder, n: int) -> None:
    """Sales the channel settled that we never recorded."""
    for _ in range(n):
        b.plant(C.MISSING_HERE, "line", b.sale_line(b.new_sale()))
