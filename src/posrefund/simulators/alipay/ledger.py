"""Alipay's refund book: the paid trades it knows, the refunds it took, and the business rules of
``alipay.trade.refund`` / ``alipay.trade.fastpay.refund.query`` (CHANNELS.md §2), with fault injection.

No HTTP and no signatures here: the gateway in ``alipay.py`` checks those and turns a ``Result`` into bytes.
Faults are chosen per refund number (``out_request_no``) or by a seeded rate and are documented on ``FAULTS``.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from posrefund.simulators.alipay.crypto import BEIJING, beijing, fen_to_yuan, yuan_to_fen

REQUEST_FAULTS = frozenset(
    {
        "no_answer_after_accept",  # refund executed, the answer is held until the client gives up
        "drop_after_accept",  # refund executed, connection closed without an answer
        "system_error",  # 40004 ACQ.SYSTEM_ERROR; executed if applied=True, not if False, seeded coin if None
        "system_error_no_effect",  # 40004 ACQ.SYSTEM_ERROR; nothing executed
        "service_unavailable",  # 20000 isp.unknow-error; nothing executed unless applied=True
        "http_500",  # bare HTTP 500 from the front (HTML, unsigned); nothing executed unless applied=True
        "decline",  # 40004 with `code` (default ACQ.SELLER_BALANCE_NOT_ENOUGH); nothing executed
        "closed",  # 40004 ACQ.TRADE_HAS_CLOSE: the trade was closed; Alipay has no "refund closed" status
        "abnormal",  # 40004 ACQ.BUYER_ERROR: payer account abnormal, refund offline; Alipay has no ABNORMAL status
    }
)
LIFECYCLE_FAULTS = frozenset(
    {
        "processing_then_success",  # fund_change=N; `times` queries (default 2) without refund_status, then success
        "duplicate_callback",  # the trade notification is delivered twice (same notify_id)
        "bad_signature_callback",  # a notification signed with a wrong key comes first, then the genuine one
        "callback_before_query",  # the notification is delivered before the answer that reveals the success
    }
)
FAULTS = REQUEST_FAULTS | LIFECYCLE_FAULTS
DEFAULT_RATE_FAULTS = ("system_error", "http_500", "no_answer_after_accept", "processing_then_success")
DECLINE_CODES = {
    "decline": "ACQ.SELLER_BALANCE_NOT_ENOUGH",
    "closed": "ACQ.TRADE_HAS_CLOSE",
    "abnormal": "ACQ.BUYER_ERROR",
}
SUB_MSGS = {
    "ACQ.TRADE_NOT_EXIST": "交易不存在",
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL": "退款金额超限",
    "ACQ.REASON_TRADE_REFUND_FEE_ERR": "退款金额无效",
    "ACQ.DISCORDANT_REPEAT_REQUEST": "请求信息不一致",
    "ACQ.TRADE_HAS_FINISHED": "交易已完结",
    "ACQ.SYSTEM_ERROR": "系统错误",
    "ACQ.INVALID_PARAMETER": "参数无效",
    "ACQ.SELLER_BALANCE_NOT_ENOUGH": "卖家余额不足",
    "ACQ.TRADE_HAS_CLOSE": "交易已经关闭",
    "ACQ.BUYER_ERROR": "买家状态非法",
    "ACQ.BUYER_NOT_EXIST": "买家不存在",
    "ACQ.CUSTOMER_VALIDATE_ERROR": "账户已注销或者被冻结",
    "ACQ.TRADE_STATUS_ERROR": "交易状态不合法",
    "ACQ.TRADE_NOT_ALLOW_REFUND": "当前交易不允许退款",
    "ACQ.REASON_TRADE_BEEN_FREEZEN": "当前交易被冻结，不允许进行退款",
    "ACQ.REFUND_CHARGE_ERROR": "退收费异常",
}
SUCCESS = "REFUND_SUCCESS"
PROCESSING = "PROCESSING"  # ours, never sent: Alipay's query simply omits refund_status until it succeeds


def business_error(sub_code: str, sub_msg: str = "") -> dict[str, Any]:
    return {
        "code": "40004",
        "msg": "Business Failed",
        "sub_code": sub_code,
        "sub_msg": sub_msg or SUB_MSGS.get(sub_code, "业务处理失败"),
    }


def unavailable() -> dict[str, Any]:
    return {
        "code": "20000",
        "msg": "Service Currently Unavailable",
        "sub_code": "isp.unknow-error",
        "sub_msg": "系统繁忙",
    }


@dataclass(frozen=True)
class FaultSpec:
    name: str
    applied: bool | None = None  # system_error / service_unavailable / http_500: did the refund happen behind it?
    code: str = ""  # decline: the sub_code
    times: int | None = None  # request faults: how many requests it hits (default 1); processing: how many queries


@dataclass
class Payment:
    out_trade_no: str
    trade_no: str
    total_fen: int
    paid_at: datetime
    notify_url: str
    bank_card: bool
    buyer_logon_id: str = "159****5620"
    buyer_user_id: str = "2088102177846880"
    last_refund_mono: float | None = None


@dataclass
class Refund:
    payment: Payment
    out_request_no: str
    amount_fen: int
    reason: str
    created_at: datetime
    created_mono: float
    faults: frozenset[str] = frozenset()
    pending_queries: int = 0
    status: str = PROCESSING
    executed: bool = False
    gmt_refund: datetime | None = None

    def ledger_row(self) -> dict[str, Any]:
        return {
            "refund_no": self.out_request_no,
            "amount_fen": self.amount_fen,
            "channel_refund_id": self.payment.trade_no,
            "status": self.status,
            "executed": self.executed,
            "trade_no": self.payment.trade_no,
            "out_trade_no": self.payment.out_trade_no,
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "gmt_refund": self.gmt_refund.isoformat() if self.gmt_refund else None,
        }


@dataclass
class Result:
    """What the gateway should do: answer ``body`` (signed), or hang / drop / send a bare 500. ``refund`` is the
    refund this call created or moved; ``executed`` says its money moved during this call (a notification is due)."""

    body: dict[str, Any]
    action: str = "answer"  # answer | hang | drop | bare_500
    refund: Refund | None = None
    executed: bool = False

    @property
    def faults(self) -> frozenset[str]:
        return self.refund.faults if self.refund is not None else frozenset()


class RefundBook:
    """Thread-safe state of the simulated Alipay: every rule runs under one lock, so a refund number is
    executed at most once whatever the client does (concurrent repeats included)."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        default_notify_url: str = "",
        refund_window: timedelta = timedelta(days=365),
        min_gap_same_trade: float = 0.0,
        query_delay: float = 0.0,
        processing_queries: int = 2,
        fault_rate: float = 0.0,
        rate_faults: Iterable[str] = DEFAULT_RATE_FAULTS,
        seed: int = 0,
    ) -> None:
        self._clock = clock
        self._default_notify_url = default_notify_url
        self._window = refund_window
        self._min_gap = min_gap_same_trade
        self._query_delay = query_delay
        self._processing_queries = processing_queries
        self._fault_rate = fault_rate
        self._rate_faults = tuple(rate_faults)
        unknown = set(self._rate_faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        self._rng = random.Random(seed)  # noqa: S311 - reproducible fault injection, not cryptography
        self._lock = threading.Lock()
        self._payments: dict[str, Payment] = {}  # by trade_no
        self._by_out_trade_no: dict[str, Payment] = {}
        self._refunds: dict[tuple[str, str], Refund] = {}  # (trade_no, out_request_no)
        self._faults: dict[str, list[FaultSpec]] = {}
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
        if total_fen <= 0:
            raise ValueError("total_fen must be positive")
        paid = paid_at or self._clock()
        if paid.tzinfo is None:
            raise ValueError("paid_at must be timezone-aware")
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

    def set_fault(self, refund_no: str, spec: FaultSpec) -> None:
        if spec.name not in FAULTS:
            raise ValueError(f"unknown fault {spec.name!r}; known: {sorted(FAULTS)}")
        with self._lock:
            self._faults.setdefault(refund_no, []).append(spec)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def ledger(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.ledger_row() for r in self._refunds.values()]

    # ---- alipay.trade.refund -----------------------------------------------------------------------------

    def refund(self, biz: dict[str, Any]) -> Result:
        with self._lock:
            payment = self._find(biz)
            if payment is None:
                return Result(business_error("ACQ.TRADE_NOT_EXIST"))
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

            existing = self._refunds.get((payment.trade_no, out_request_no))
            if existing is not None:
                # "同样的退款请求号多次请求只会退一次": the same number and amount answers again, moving nothing.
                if existing.amount_fen != amount:
                    return Result(business_error("ACQ.DISCORDANT_REPEAT_REQUEST"))
                return Result(self._refund_body(existing, fund_change=False))

            now = self._clock()
            if now - payment.paid_at > self._window:
                return Result(business_error("ACQ.TRADE_HAS_FINISHED"))
            if amount > payment.total_fen:
                return Result(business_error("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"))
            if self._refunded(payment) + amount > payment.total_fen:
                return Result(business_error("ACQ.REASON_TRADE_REFUND_FEE_ERR"))
            mono = time.monotonic()
            if (
                self._min_gap > 0
                and payment.last_refund_mono is not None
                and mono - payment.last_refund_mono < (self._min_gap)
            ):
                # Refunds of one trade must be ≥3 s apart; a quicker one fails like a system error, undone.
                return Result(business_error("ACQ.SYSTEM_ERROR", "同一笔交易的退款请求间隔过短，请稍后重试"))

            specs = self._specs_for(out_request_no)
            request_fault = next((s for s in specs if s.name in REQUEST_FAULTS), None)
            if request_fault is not None:
                self._consume(out_request_no, request_fault)
            lifecycle = frozenset(s.name for s in specs if s.name in LIFECYCLE_FAULTS)
            applied, failure = self._request_fault_effect(request_fault)
            if failure is not None and not applied:
                return failure

            refund = Refund(payment, out_request_no, amount, reason, now, mono, faults=lifecycle)
            processing = next((s for s in specs if s.name == "processing_then_success"), None)
            if processing is not None:
                refund.pending_queries = self._processing_queries if processing.times is None else processing.times
            self._refunds[(payment.trade_no, out_request_no)] = refund
            payment.last_refund_mono = mono
            if processing is None:
                self._execute(refund)
            if failure is not None:
                failure.refund, failure.executed = refund, refund.executed
                return failure
            return Result(self._refund_body(refund, fund_change=refund.executed), "answer", refund, refund.executed)

    def _request_fault_effect(self, spec: FaultSpec | None) -> tuple[bool, Result | None]:
        """(whether the refund goes ahead, the error answer or None) for a request fault."""
        if spec is None:
            return True, None
        name = spec.name
        if name in DECLINE_CODES:
            return False, Result(business_error(spec.code or DECLINE_CODES[name]))
        if name == "no_answer_after_accept":
            return True, Result({}, "hang")
        if name == "drop_after_accept":
            return True, Result({}, "drop")
        if name == "system_error_no_effect":
            return False, Result(business_error("ACQ.SYSTEM_ERROR"))
        if name == "system_error":
            applied = spec.applied if spec.applied is not None else self._rng.random() < 0.5
            return applied, Result(business_error("ACQ.SYSTEM_ERROR"))
        if name == "service_unavailable":
            return bool(spec.applied), Result(unavailable())
        # http_500
        return bool(spec.applied), Result({}, "bare_500")

    def _refund_body(self, refund: Refund, *, fund_change: bool) -> dict[str, Any]:
        p = refund.payment
        body: dict[str, Any] = {
            "code": "10000",
            "msg": "Success",
            "trade_no": p.trade_no,
            "out_trade_no": p.out_trade_no,
            "buyer_logon_id": p.buyer_logon_id,
            "buyer_user_id": p.buyer_user_id,
            "fund_change": "Y" if fund_change else "N",
            "refund_fee": fen_to_yuan(self._refunded(p)),
            "send_back_fee": fen_to_yuan(refund.amount_fen if fund_change else 0),
        }
        if fund_change and refund.gmt_refund is not None:
            body["gmt_refund_pay"] = beijing(refund.gmt_refund)
        return body

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
                if refund.pending_queries > 0:
                    refund.pending_queries -= 1
                    return Result(body, "answer", refund)  # taken, not done: refund_status is simply absent
                self._execute(refund)
                executed = True
            body["refund_status"] = SUCCESS
            raw_options = biz.get("query_options")
            options: list[Any] = raw_options if isinstance(raw_options, list) else []
            if "gmt_refund_pay" in options and refund.gmt_refund is not None:
                body["gmt_refund_pay"] = beijing(refund.gmt_refund)
            if "deposit_back_info" in options and payment.bank_card:
                body["deposit_back_info"] = self.deposit_back_info(refund)
            return Result(body, "answer", refund, executed)

    def complete(self, refund_no: str) -> Refund | None:
        """Let time pass for a refund still in progress: its money moves now. Returns it if that happened."""
        with self._lock:
            for refund in self._refunds.values():
                if refund.out_request_no == refund_no and refund.status == PROCESSING:
                    self._execute(refund)
                    return refund
        return None

    # ---- what notifications carry ------------------------------------------------------------------------

    def trade_notification(self, refund: Refund) -> dict[str, str]:
        """The trade's async notify after a refund (unsigned; the gateway adds notify_id/time and the sign)."""
        with self._lock:
            p = refund.payment
            refunded = self._refunded(p, executed_only=True)
            full = refunded >= p.total_fen
            params = {
                "notify_type": "trade_status_sync",
                "trade_no": p.trade_no,
                "out_trade_no": p.out_trade_no,
                "out_biz_no": refund.out_request_no,
                "buyer_id": p.buyer_user_id,
                "buyer_logon_id": p.buyer_logon_id,
                "seller_id": "2088101106499364",
                "trade_status": "TRADE_CLOSED" if full else "TRADE_SUCCESS",
                "total_amount": fen_to_yuan(p.total_fen),
                "receipt_amount": fen_to_yuan(p.total_fen - refunded),
                "buyer_pay_amount": fen_to_yuan(p.total_fen),
                "refund_fee": fen_to_yuan(refunded),
                "subject": "POS 消费",
                "gmt_create": beijing(p.paid_at),
                "gmt_payment": beijing(p.paid_at),
                "gmt_refund": _beijing_ms(refund.gmt_refund or self._clock()),
            }
            if full:
                params["gmt_close"] = beijing(refund.gmt_refund or self._clock())
            return params

    def deposit_back_info(self, refund: Refund) -> dict[str, str]:
        at = refund.gmt_refund or self._clock()
        return {
            "has_deposit_back": "true",
            "dback_status": "S",
            "dback_amount": fen_to_yuan(refund.amount_fen),
            "bank_ack_time": beijing(at),
            "est_bank_receipt_time": beijing(at + timedelta(days=1)),
        }

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

    def _specs_for(self, refund_no: str) -> list[FaultSpec]:
        specs = list(self._faults.get(refund_no, []))
        if not specs and refund_no not in self._rolled and self._fault_rate > 0:
            self._rolled.add(refund_no)
            if self._rng.random() < self._fault_rate:
                spec = FaultSpec(self._rng.choice(self._rate_faults))
                self._faults[refund_no] = [spec]
                specs = [spec]
        return specs

    def _consume(self, refund_no: str, spec: FaultSpec) -> None:
        """A request fault hits ``times`` requests (default one), then the number behaves normally."""
        specs = self._faults.get(refund_no, [])
        if spec not in specs:
            return
        specs.remove(spec)
        left = (spec.times or 1) - 1
        if left > 0:
            specs.insert(0, FaultSpec(spec.name, spec.applied, spec.code, left))


def _beijing_ms(at: datetime) -> str:
    local = at.astimezone(BEIJING)
    return f"{local:%Y-%m-%d %H:%M:%S}.{local.microsecond // 1000:03d}"
