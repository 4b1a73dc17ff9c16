"""Alipay's refund book: the paid trades it knows, the refunds it took, and the business rules of
``alipay.trade.refund`` / ``alipay.trade.fastpay.refund.query`` (CHANNELS.md §2), with fault injection.

No HTTP and no signatures here: the gateway in ``server`` checks those and turns a ``Result`` into bytes.
Faults are chosen per refund number (``out_request_no``) or by a seeded rate and are documented on
``rules.FAULTS``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from posrefund.simulators.alipay.crypto import BEIJING, beijing, fen_to_yuan, yuan_to_fen
from posrefund.simulators.alipay.rules import (
    LIFECYCLE_FAULTS,
    PROCESSING,
    REQUEST_FAULTS,
    SUCCESS,
    Payment,
    Refund,
    Result,
    business_error,
    deposit_back_info,
    refund_body,
    request_fault_effect,
    trade_notification,
)
from posrefund.simulators.common.faults import Fault, FaultPlan
from posrefund.simulators.common.ledger import RefundLedger


class RefundBook(RefundLedger):
    """Thread-safe state of the simulated Alipay: every rule runs under one lock."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        faults: FaultPlan,
        *,
        default_notify_url: str = "",
        refund_window: timedelta = timedelta(days=365),
        min_gap_same_trade: float = 0.0,
        query_delay: float = 0.0,
        processing_queries: int = 2,
    ) -> None:
        super().__init__(clock, faults)
        self._default_notify_url = default_notify_url
        self._window = refund_window
        self._min_gap = min_gap_same_trade
        self._query_delay = query_delay
        self._processing_queries = processing_queries
        self._payments: dict[str, Payment] = {}  # by trade_no
        self._by_out_trade_no: dict[str, Payment] = {}
        self._refunds: dict[tuple[str, str], Refund] = {}  # (trade_no, out_request_no)
        self._rolled: set[str] = set()
        self._seq = itertools.count(1)

    # ---- set-up ------------------------------------------------------------------------------------------

    def add_payment(
        self,
        out_trade_no: str,
        total_fen: int,
        paid_at: datetime | None = None,
        trade_no: str | None = None,
        notify_url: str | None = None,
        bank_card: bool = False,
    ) -> str:
        """Register a paid trade Alipay knows; returns its ``trade_no``. ``notify_url`` is the payment's (the
        refund API has none, so refunds are notified there); ``bank_card``: refunds also send a deposit-back
        message."""
        paid = self._paid_at(total_fen, paid_at)
        with self._lock:
            existing = self._by_out_trade_no.get(out_trade_no)
            if existing is not None:
                return existing.trade_no
            # 28 digits like the real ones: date, "22001", then a running number.
            tx = trade_no or f"{paid.astimezone(BEIJING):%Y%m%d}22001{next(self._seq):015d}"
            payment = Payment(
                out_trade_no, tx, total_fen, paid, notify_url or self._default_notify_url, bank_card=bank_card
            )
            self._payments[tx] = payment
            self._by_out_trade_no[out_trade_no] = payment
            return tx

    def _rows(self) -> list[dict[str, Any]]:
        """One row per refund taken; ``requests``: how many refund calls named its number (repeats included)."""
        return [{**r.ledger_row(), "requests": self._requests.get(r.out_request_no, 0)} for r in self._refunds.values()]

    # ---- alipay.trade.refund -----------------------------------------------------------------------------

    def refund(self, biz: dict[str, Any]) -> Result:
        with self._lock:
            payment = self._find(biz)
            if payment is None:
                return Result(business_error("ACQ.TRADE_NOT_EXIST"))
            asked = _refund_request(biz, payment)
            if isinstance(asked, Result):
                return asked
            out_request_no, amount, reason = asked
            self.count_request(out_request_no)
            existing = self._refunds.get((payment.trade_no, out_request_no))
            if existing is not None:
                # "同样的退款请求号多次请求只会退一次": the same number and amount answers again, moving nothing.
                if existing.amount_fen != amount:
                    return Result(business_error("ACQ.DISCORDANT_REPEAT_REQUEST"))
                return Result(refund_body(existing, self._refunded(payment), fund_change=False))
            now, mono = self._clock(), time.monotonic()
            refused = self._refused(payment, amount, now, mono)
            if refused is not None:
                return refused
            return self._take(payment, out_request_no, amount, reason, now, mono)

    def _refused(self, payment: Payment, amount: int, now: datetime, mono: float) -> Result | None:
        """A new refund's business rules: the trade's age, the amounts, the gap since its last refund."""
        if now - payment.paid_at > self._window:
            return Result(business_error("ACQ.TRADE_HAS_FINISHED"))
        if amount > payment.total_fen:
            return Result(business_error("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"))
        if self._refunded(payment) + amount > payment.total_fen:
            return Result(business_error("ACQ.REASON_TRADE_REFUND_FEE_ERR"))
        last = payment.last_refund_mono
        if self._min_gap > 0 and last is not None and mono - last < self._min_gap:
            # Refunds of one trade must be ≥3 s apart; a quicker one fails like a system error, undone.
            return Result(business_error("ACQ.SYSTEM_ERROR", "同一笔交易的退款请求间隔过短，请稍后重试"))
        return None

    def _take(
        self, payment: Payment, out_request_no: str, amount: int, reason: str, now: datetime, mono: float
    ) -> Result:
        """Take a new refund, shaped by the faults planned (or drawn) for its number."""
        specs = self._specs_for(out_request_no)
        request_fault = self.faults.take(out_request_no, REQUEST_FAULTS)
        lifecycle = frozenset(s.name for s in specs if s.name in LIFECYCLE_FAULTS)
        applied, failure = request_fault_effect(request_fault, lambda: self.faults.rng.random() < 0.5)
        if failure is not None and not applied:
            return failure
        refund = Refund(payment, out_request_no, amount, reason, now, mono, faults=lifecycle)
        processing = next((s for s in specs if s.name == "processing_then_success"), None)
        if processing is not None and processing.seconds is not None:
            refund.pending_until = mono + processing.seconds  # taken, done once that time has passed
        elif processing is not None:
            refund.pending_queries = self._processing_queries if processing.times is None else processing.times
        self._refunds[(payment.trade_no, out_request_no)] = refund
        payment.last_refund_mono = mono
        if processing is None:
            self._execute(refund)
        if failure is not None:
            failure.refund, failure.executed = refund, refund.executed
            return failure
        body = refund_body(refund, self._refunded(payment), fund_change=refund.executed)
        return Result(body, "answer", refund, refund.executed)

    # ---- alipay.trade.fastpay.refund.query ---------------------------------------------------------------

    def query(self, biz: dict[str, Any]) -> Result:
        with self._lock:
            payment = self._find(biz)
            if payment is None:
                return Result(business_error("ACQ.TRADE_NOT_EXIST"))
            out_request_no = str(biz.get("out_request_no") or "")
            if not out_request_no:
                return Result(business_error("ACQ.INVALID_PARAMETER", "out_request_no 不能为空"))
            body: dict[str, Any] = {
                "code": "10000",
                "msg": "Success",
                "trade_no": payment.trade_no,
                "out_trade_no": payment.out_trade_no,
            }
            refund = self._refunds.get((payment.trade_no, out_request_no))
            # Queried too soon after the refund, Alipay may not show it yet: the same answer as "not received".
            if refund is None or time.monotonic() - refund.created_mono < self._query_delay:
                return Result(body)
            body.update(
                out_request_no=out_request_no,
                total_amount=fen_to_yuan(payment.total_fen),
                refund_amount=fen_to_yuan(refund.amount_fen),
                refund_reason=refund.reason,
            )
            executed = False
            if refund.status == PROCESSING:
                if refund.pending_queries > 0 or time.monotonic() < refund.pending_until:
                    refund.pending_queries = max(0, refund.pending_queries - 1)
                    return Result(body, "answer", refund)  # taken, not done: refund_status is simply absent
                self._execute(refund)
                executed = True
            body["refund_status"] = SUCCESS
            raw_options = biz.get("query_options")
            options: list[Any] = raw_options if isinstance(raw_options, list) else []
            if "gmt_refund_pay" in options and refund.gmt_refund is not None:
                body["gmt_refund_pay"] = beijing(refund.gmt_refund)
            if "deposit_back_info" in options and payment.bank_card:
                body["deposit_back_info"] = deposit_back_info(refund, self._clock())
            return Result(body, "answer", refund, executed)

    def settle(self, key: str | None = None) -> Refund | None:
        """Let time pass for refund ``key`` still in progress: its money moves now. Returns it if that happened."""
        with self._lock:
            for refund in self._refunds.values():
                if refund.out_request_no == key and refund.status == PROCESSING:
                    self._execute(refund)
                    return refund
        return None

    # ---- what notifications carry ------------------------------------------------------------------------

    def trade_notification(self, refund: Refund) -> dict[str, str]:
        """The trade's async notify after a refund (unsigned; the gateway adds notify_id/time and the sign)."""
        with self._lock:
            return trade_notification(refund, self._refunded(refund.payment, executed_only=True), self._clock())

    def deposit_back_info(self, refund: Refund) -> dict[str, str]:
        return deposit_back_info(refund, self._clock())

    # ---- inside the lock ---------------------------------------------------------------------------------

    def _find(self, biz: dict[str, Any]) -> Payment | None:
        trade_no, out_trade_no = biz.get("trade_no"), biz.get("out_trade_no")
        if trade_no:  # "trade_no wins"
            return self._payments.get(str(trade_no))
        return self._by_out_trade_no.get(str(out_trade_no)) if out_trade_no else None

    def _refunded(self, payment: Payment, *, executed_only: bool = False) -> int:
        return sum(
            r.amount_fen for r in self._refunds.values() if r.payment is payment and (r.executed or not executed_only)
        )

    def _execute(self, refund: Refund) -> None:
        refund.status, refund.executed, refund.gmt_refund = SUCCESS, True, self._clock()

    def _specs_for(self, refund_no: str) -> list[Fault]:
        """The faults planned for a number; a number seen for the first time may be given a random one."""
        specs = self.faults.planned(refund_no)
        if not specs and refund_no not in self._rolled and self.faults.random:
            self._rolled.add(refund_no)
            name = self.faults.draw()
            if name is not None:
                self.faults.plan(refund_no, Fault(name))
                specs = self.faults.planned(refund_no)
        return specs


def _refund_request(biz: dict[str, Any], payment: Payment) -> tuple[str, int, str] | Result:
    """(out_request_no, amount in fen, reason) of a refund request, or the error answer for a malformed one."""
    amount = yuan_to_fen(biz["refund_amount"]) if isinstance(biz.get("refund_amount"), str) else None
    if amount is None or amount <= 0:
        return Result(business_error("ACQ.INVALID_PARAMETER", "refund_amount 不合法"))
    reason = str(biz.get("refund_reason") or "")
    if len(reason) > 256:
        return Result(business_error("ACQ.INVALID_PARAMETER", "refund_reason 超长"))
    out_request_no = str(biz.get("out_request_no") or "")
    if len(out_request_no) > 64:
        return Result(business_error("ACQ.INVALID_PARAMETER", "out_request_no 超长"))
    if not out_request_no:
        # Without a request number only a full refund is possible; it is then numbered by out_trade_no.
        if amount != payment.total_fen:
            return Result(business_error("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"))
        out_request_no = payment.out_trade_no
    return out_request_no, amount, reason
