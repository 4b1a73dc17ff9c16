"""A synthetic ledger and its settlement file, built together and streamed: the tests and ``bench/reconcile.py``
reconcile a million rows without holding them, and know in advance exactly what must be reported."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from posrefund.demo.settlement.model import (
    SHANGHAI,
    Expected,
    Faults,
    RefundTx,
    SaleFaults,
    Tx,
    charged_twice,
    payer_for,
    stranger,
)
from posrefund.demo.settlement.writers import ENCODING, WRITERS, Writer
from posrefund.domain.reconciliation import DiscrepancyClass, FeeRate

C = DiscrepancyClass
DAY_SECONDS = 86_000  # the sales spread over the day, leaving its last minutes to refunds and strangers


@dataclass
class Ledger:
    """Where the synthetic set goes: ``sales(rows)`` and ``refunds(rows)`` receive chunks of table rows."""

    merchant_id: str
    store_id: str
    terminals: list[tuple[str, str]]  # (terminal id, terminal no.)
    sales: Callable[[list[dict[str, Any]]], None]
    refunds: Callable[[list[dict[str, Any]]], None]
    chunk: int = 5_000


@dataclass
class Synthetic:
    expected: Expected = field(default_factory=set)
    sales: int = 0
    refunds: int = 0
    lines: int = 0
    processing: list[str] = field(default_factory=list)  # refund ids left PROCESSING on purpose
    lost: list[str] = field(default_factory=list)  # refund ids the channel paid, we hold as processing
    duplicates: list[str] = field(default_factory=list)  # the sales the channel charged twice


@dataclass(frozen=True)
class _Plan:
    """Which sales carry a fault or a refund, drawn once from the seed."""

    sales: SaleFaults
    refunded: set[int]
    lost: set[int]  # refunds the channel paid while the ledger still holds them as processing
    processing: set[int]  # refunds the channel's file still shows PROCESSING

    @classmethod
    def drawn(cls, rng: random.Random, source: str, n_sales: int, n_refunds: int, faults: Faults) -> _Plan:
        n_special = sum(SaleFaults.sizes(faults)) + n_refunds
        drawn = SaleFaults.drawn(rng.sample(range(n_sales), n_special), faults)
        refund_order = drawn.rest
        lost_end = faults.refund_status_mismatch
        # Only WeChat's bill shows a refund still PROCESSING; card and Alipay files list completed refunds only.
        n_processing = faults.processing if source == "wechat" else 0
        return cls(
            sales=drawn,
            refunded=set(refund_order),
            lost=set(refund_order[:lost_end]),
            processing=set(refund_order[lost_end : lost_end + n_processing]),
        )


def synthetic(
    path: Path,
    source: str,
    day: date,
    n_sales: int,
    n_refunds: int,
    faults: Faults,
    ledger: Ledger,
    rate: FeeRate,
    seed: int = 2026,
    merchant_no: str = "898310058120001",
    now: datetime | None = None,
) -> Synthetic:
    """Write a settlement file of ``n_sales`` sales (+ refunds, + injected faults) and hand the matching ledger
    rows to ``ledger`` in chunks. Returns what reconciliation must report, and nothing else."""
    rng = random.Random(seed)  # noqa: S311 - test data
    plan = _Plan.drawn(rng, source, n_sales, n_refunds, faults)
    created = now or datetime.combine(day, time(23, 0), SHANGHAI).astimezone(UTC)
    with open(path, "w", encoding=ENCODING[source], newline="\n") as out:
        writer = WRITERS[source](out, merchant_no)
        writer.start(day)
        build = _Build(rng, writer, ledger, source, day, rate, seed, created, plan)
        step = DAY_SECONDS / max(n_sales, 1)
        for i in range(n_sales):
            build.sale(i, build.start + timedelta(seconds=int(i * step)))
        build.finish(faults.missing_here)
    build.flush(final=True)
    return build.result


class _Build:
    """The synthetic set under construction: the file's writer, the ledger rows not yet handed over, and the
    refunds written to the file once the sales before them are."""

    def __init__(
        self,
        rng: random.Random,
        writer: Writer,
        ledger: Ledger,
        source: str,
        day: date,
        rate: FeeRate,
        seed: int,
        created: datetime,
        plan: _Plan,
    ) -> None:
        self.rng, self.writer, self.ledger, self.source, self.day = rng, writer, ledger, source, day
        self.rate, self.seed, self.created, self.plan = rate, seed, created, plan
        self.start = datetime.combine(day, time(0, 0, 5), SHANGHAI)
        self.result = Synthetic()
        self.sale_rows: list[dict[str, Any]] = []
        self.refund_rows: list[dict[str, Any]] = []
        self.pending_refunds: list[RefundTx] = []

    def flush(self, final: bool = False) -> None:
        """Hand the ledger full chunks; a refund's sale goes first, so sales are handed whenever refunds are."""
        refunds_due = bool(self.refund_rows) and (final or len(self.refund_rows) >= self.ledger.chunk)
        if self.sale_rows and (final or refunds_due or len(self.sale_rows) >= self.ledger.chunk):
            self.ledger.sales(list(self.sale_rows))
            self.sale_rows.clear()
        if refunds_due:
            self.ledger.refunds(list(self.refund_rows))
            self.refund_rows.clear()

    def sale(self, i: int, at: datetime) -> None:
        """The ``i``-th sale in the ledger and (unless left out) in the file, with its twin and its refund."""
        term_id, term_no = self.ledger.terminals[i % len(self.ledger.terminals)]
        tx = Tx(
            sale_id=f"sal{self.seed}x{i:08d}",
            terminal_no=term_no,
            voucher_no=f"{i // len(self.ledger.terminals) + 1:06d}",
            rrn=f"{i:012d}",
            order_no=f"SO{self.day:%Y%m%d}{i:09d}",
            amount_fen=100 + (i * 7_919 + self.rng.randrange(100)) % 500_000,
            at=at,
            payer=payer_for(self.source, i),
        )
        refund_amount = max(1, tx.amount_fen // 2) if i in self.plan.refunded else 0
        in_flight = i in self.plan.lost or i in self.plan.processing
        refunded, reserved = (0, refund_amount) if in_flight else (refund_amount, 0)
        self.sale_rows.append(self._sale_row(tx, term_id, refunded=refunded, reserved=reserved))
        self.result.sales += 1
        self._write_sale(i, tx)
        if i in self.plan.sales.dups:
            self._write_twin(i, tx)
        if refund_amount:
            self._refund(i, tx, term_id, refund_amount, "processing" if in_flight else "succeeded")
        while self.pending_refunds and self.pending_refunds[0].at <= tx.at:
            r = self.pending_refunds.pop(0)
            self.writer.refund(r, self.rate.expected_fee(r.amount_fen))
        self.flush()

    def _write_sale(self, i: int, tx: Tx) -> None:
        fee = self.rate.expected_fee(tx.amount_fen)
        faults = self.plan.sales
        if i in faults.missing:
            self.result.expected.add((C.MISSING_AT_CHANNEL.value, f"sale:{tx.sale_id}"))
        elif i in faults.amount_bad:
            self.writer.sale(tx, tx.amount_fen + 1 + self.rng.randrange(500), fee)
            self.result.expected.add((C.AMOUNT_MISMATCH.value, f"sale:{tx.sale_id}"))
        elif i in faults.fee_bad:
            # beyond the 1-fen tolerance the fee check allows (docs/fees.md)
            self.writer.sale(tx, tx.amount_fen, fee + 2 + self.rng.randrange(3))
            self.result.expected.add((C.FEE_MISMATCH.value, f"sale:{tx.sale_id}"))
        else:
            self.writer.sale(tx, tx.amount_fen, fee)

    def _write_twin(self, i: int, tx: Tx) -> None:
        """The channel capturing the ``i``-th sale a second time: one sale of ours, two lines."""
        twin = charged_twice(tx, rrn=f"D{i:011d}", seconds=45)
        self.writer.sale(twin, twin.amount_fen, self.rate.expected_fee(tx.amount_fen))
        self.result.expected.add((C.DUPLICATE_CHARGE.value, f"sale:{tx.sale_id}"))
        self.result.duplicates.append(tx.sale_id)

    def _refund(self, i: int, tx: Tx, term_id: str, amount_fen: int, status: str) -> None:
        """The refund of the ``i``-th sale in the ledger now, in the file once the sales before it are written."""
        rid = f"rfd{self.seed}x{i:08d}"
        r = RefundTx(
            refund_id=rid,
            refund_no=f"RF{self.day:%Y%m%d}{i:010d}",
            channel_refund_id=f"R{i:011d}",
            amount_fen=amount_fen,
            at=min(tx.at + timedelta(seconds=600), self.start + timedelta(seconds=86_390)),  # same local day
            sale=tx,
            status="PROCESSING" if i in self.plan.processing else "SUCCESS",
        )
        self.refund_rows.append(_refund_row(r, self.ledger, term_id, self.source, status, self.created))
        self.pending_refunds.append(r)
        self.result.refunds += 1
        if i in self.plan.lost:
            self.result.expected.add((C.REFUND_STATUS_MISMATCH.value, f"refund:{rid}"))
            self.result.lost.append(rid)
        if i in self.plan.processing:
            self.result.processing.append(rid)

    def finish(self, missing_here: int) -> None:
        """The refunds still pending, then the sales only the channel knows, then the file's footer."""
        for r in self.pending_refunds:
            self.writer.refund(r, self.rate.expected_fee(r.amount_fen))
        for k in range(missing_here):
            tx = self._stranger(k)
            line = self.writer.sale(tx, tx.amount_fen, self.rate.expected_fee(tx.amount_fen))
            self.result.expected.add((C.MISSING_HERE.value, f"line:{line}"))
        self.writer.finish()
        self.result.lines = self.writer.count

    def _stranger(self, k: int) -> Tx:
        _term_id, term_no = self.ledger.terminals[k % len(self.ledger.terminals)]
        return stranger(
            self.source,
            k,
            terminal_no=term_no,
            order_no=f"SX{self.day:%Y%m%d}{k:09d}",
            amount_fen=1_000 + k,
            at=self.start + timedelta(seconds=DAY_SECONDS + k % 300),
            payer_no=5_000 + k,
        )

    def _sale_row(self, tx: Tx, term_id: str, refunded: int = 0, reserved: int = 0) -> dict[str, Any]:
        return {
            "id": tx.sale_id,
            "merchant_id": self.ledger.merchant_id,
            "store_id": self.ledger.store_id,
            "terminal_id": term_id,
            "voucher_no": tx.voucher_no,
            "rrn": tx.rrn,
            "batch_no": tx.batch_no,
            "auth_code": tx.auth_code,
            "order_no": tx.order_no,
            "channel": self.source,
            "kind": "sale",
            "amount_fen": tx.amount_fen,
            "fee_fen": self.rate.expected_fee(tx.amount_fen),
            "currency": "CNY",
            "paid_at": tx.at.astimezone(UTC),
            "paid_date": self.day,
            "settlement_status": "settled",
            "payer_masked": _masked(self.source, tx.payer),
            "card_last4": tx.payer[-4:] if self.source == "card" else "",
            "refunded_fen": refunded,
            "reserved_fen": reserved,
            "refund_count": 1 if refunded or reserved else 0,
            "created_at": self.created,
        }


def _masked(source: str, payer: str) -> str:
    if source == "wechat":
        return f"{payer[:2]}***{payer[-2:]}"
    return payer


# The columns of a generated refund row that say how it was asked for: a cashier's request, approved once.
REFUND_REQUEST: dict[str, Any] = {
    "currency": "CNY",
    "reason": "customer_cancelled",
    "note": "",
    "requested_role": "cashier",
    "required_approvals": 1,
    "approved_by": "[]",
    "review_reason": "",
    "evidence_ids": "[]",
    "customer_phone_masked": "",
    "customer_name_masked": "",
    "customer_id_no_masked": "",
    "version": 3,
}


def _refund_row(
    r: RefundTx, ledger: Ledger, term_id: str, source: str, status: str, created: datetime
) -> dict[str, Any]:
    done = status == "succeeded"
    at = r.at.astimezone(UTC)
    return {
        "id": r.refund_id,
        "merchant_id": ledger.merchant_id,
        "store_id": ledger.store_id,
        "terminal_id": term_id,
        "sale_id": r.sale.sale_id,
        "refund_no": r.refund_no,
        "amount_fen": r.amount_fen,
        "status": status,
        "channel": source,
        "requested_by": "bench",
        **REFUND_REQUEST,
        "created_at": at - timedelta(seconds=5),
        "updated_at": at,
        "method": "refund",
        "attempts": 1,
        "submitted": True,
        "channel_refund_id": r.channel_refund_id if done or source == "card" else "",
        "next_check_at": None if done else created + timedelta(days=30),
        "sent_at": at - timedelta(seconds=4),
        "succeeded_at": at if done else None,
    }
