"""The demo's settlement file: what the demo merchant recorded, as the channel would list it, with faults the
file alone can show (``posrefund demo settlement``)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from posrefund.demo.settlement.model import (
    SHANGHAI,
    Faults,
    RefundTx,
    SaleFaults,
    Tx,
    charged_twice,
    stranger,
)
from posrefund.demo.settlement.writers import ENCODING, WRITERS, Writer
from posrefund.domain.reconciliation import DiscrepancyClass, FeeRate
from posrefund.ports import LedgerRefundRow, LedgerSaleRow

C = DiscrepancyClass
Injected = list[tuple[str, str]]  # (class, what)
IN_FLIGHT = ("processing", "abnormal", "failed")


def from_ledger(
    path: Path,
    source: str,
    day: date,
    sales: Iterable[LedgerSaleRow],
    refunds: Iterable[LedgerRefundRow],
    faults: Faults,
    rates: dict[str, FeeRate],
    seed: int = 2026,
    merchant_no: str = "898310058120001",
) -> Injected:
    """Write the channel's file for recorded sales and refunds, injecting faults the file alone can show.
    Returns (class, what) for every injected fault."""
    rng = random.Random(seed)  # noqa: S311 - demo data
    sale_list = list(sales)
    refund_list = list(refunds)
    txs = {s["id"]: _tx(source, s) for s in sale_list}
    order = list(range(len(sale_list)))
    rng.shuffle(order)
    sale_faults = SaleFaults.drawn(order, faults)
    lost = [r for r in refund_list if r["status"] in IN_FLIGHT][: faults.refund_status_mismatch]
    lost_ids = {r["id"] for r in lost}
    with open(path, "w", encoding=ENCODING[source], newline="\n") as out:
        writer = WRITERS[source](out, merchant_no)
        writer.start(day)
        injected = _write_sales(writer, sale_list, txs, sale_faults, rates)
        injected += _write_refunds(writer, source, refund_list, sale_list, txs, lost_ids)
        injected += _write_strangers(writer, source, day, faults.missing_here)
        writer.finish()
    return injected


def _write_sales(
    writer: Writer, sale_list: list[LedgerSaleRow], txs: dict[str, Tx], faults: SaleFaults, rates: dict[str, FeeRate]
) -> Injected:
    """Each recorded sale as the channel charged it: left out, another amount or fee, or charged twice."""
    injected: Injected = []
    for i, s in enumerate(sale_list):
        tx = txs[s["id"]]
        rate = rates.get(str(s["channel"]))
        fee = rate.expected_fee(tx.amount_fen) if rate else int(s["fee_fen"])
        what = f"sale {s['voucher_no']} / {s['order_no']}"
        if i in faults.missing:
            injected.append((C.MISSING_AT_CHANNEL.value, what))
            continue
        if i in faults.amount_bad:
            writer.sale(tx, tx.amount_fen + 100, fee)
            injected.append((C.AMOUNT_MISMATCH.value, what))
        elif i in faults.fee_bad:
            writer.sale(tx, tx.amount_fen, fee + 2)  # beyond the 1-fen tolerance of the fee check (docs/fees.md)
            injected.append((C.FEE_MISMATCH.value, what))
        else:
            writer.sale(tx, tx.amount_fen, fee)
        if i in faults.dups:
            twin = charged_twice(tx, rrn=f"D{i:011d}", seconds=40)
            line = writer.sale(twin, twin.amount_fen, fee)
            injected.append((C.DUPLICATE_CHARGE.value, f"line {line}"))
    return injected


def _write_refunds(
    writer: Writer,
    source: str,
    refund_list: list[LedgerRefundRow],
    sale_list: list[LedgerSaleRow],
    txs: dict[str, Tx],
    lost_ids: set[str],
) -> Injected:
    """The refunds the channel completed (WeChat also lists those in flight); a ``lost`` one is shown paid."""
    by_id = {s["id"]: s for s in sale_list}
    injected: Injected = []
    for r in refund_list:
        sale = by_id.get(r["sale_id"])
        if sale is None:
            continue
        status = "SUCCESS" if r["status"] == "succeeded" or r["id"] in lost_ids else "PROCESSING"
        if source != "wechat" and status != "SUCCESS":
            continue  # card and Alipay files list only completed refunds
        at = r["succeeded_at"] or r["sent_at"] or r["created_at"]
        rt = RefundTx(
            r["id"],
            r["refund_no"],
            r["channel_refund_id"] or f"R{r['refund_no'][-11:]}",
            int(r["amount_fen"]),
            at,
            txs[sale["id"]],
            status,
            r["method"] == "void",
        )
        writer.refund(rt, 0)
        if r["id"] in lost_ids:
            injected.append((C.REFUND_STATUS_MISMATCH.value, f"refund {r['refund_no']}"))
    return injected


def _write_strangers(writer: Writer, source: str, day: date, missing_here: int) -> Injected:
    """Sales only the channel knows, late in the evening of the day."""
    injected: Injected = []
    for k in range(missing_here):
        tx = stranger(
            source,
            k,
            terminal_no="DEMO01",
            order_no=f"SX{k:09d}",
            amount_fen=2_000 + k,
            at=datetime.combine(day, time(21, 0), SHANGHAI) + timedelta(seconds=k),
            payer_no=7_000 + k,
        )
        line = writer.sale(tx, tx.amount_fen, 0)
        injected.append((C.MISSING_HERE.value, f"line {line}"))
    return injected


def _tx(source: str, s: LedgerSaleRow) -> Tx:
    """A recorded sale as the channel saw it; WeChat lists the payer's openid, here made up from the mask."""
    payer = str(s["payer_masked"])
    if source == "wechat":
        payer = f"{payer[:2]}PAYER{s['id'][-6:]}{payer[-2:]}" if len(payer) >= 4 else f"oX{s['id']}"
    return Tx(
        sale_id=str(s["id"]),
        terminal_no=str(s.get("terminal_no", "")),
        voucher_no=str(s["voucher_no"]),
        rrn=str(s["rrn"]),
        order_no=str(s["order_no"]),
        amount_fen=int(s["amount_fen"]),
        at=s["paid_at"],
        payer=payer,
        batch_no=str(s["batch_no"]),
        auth_code=str(s["auth_code"]),
    )
