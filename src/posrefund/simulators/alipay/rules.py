"""Alipay's refund rules that need no state: the faults (``FAULTS``) and what a request fault answers, the
business errors (40004 + ``sub_code``), and what a refund answer and a notification carry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from posrefund.simulators.alipay.crypto import BEIJING, beijing, fen_to_yuan
from posrefund.simulators.common.faults import HANDLED_HERE, Fault

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
        "late_callback",  # the notification leaves late (common.faults.LATE_CALLBACK_SECONDS)
    }
)
FAULTS = REQUEST_FAULTS | LIFECYCLE_FAULTS | HANDLED_HERE  # no host_reversal: Alipay never undoes a refund itself
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
    pending_until: float = 0.0  # time.monotonic() before which queries show it taken, not done (`processing` seconds)
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


def request_fault_effect(spec: Fault | None, coin: Callable[[], bool]) -> tuple[bool, Result | None]:
    """(whether the refund goes ahead, the error answer or None) for a request fault; ``coin`` decides a
    ``system_error`` planned without ``applied``."""
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
        applied = spec.applied if spec.applied is not None else coin()
        return applied, Result(business_error("ACQ.SYSTEM_ERROR"))
    if name == "service_unavailable":
        return bool(spec.applied), Result(unavailable())
    # http_500
    return bool(spec.applied), Result({}, "bare_500")


def refund_body(refund: Refund, refunded_fen: int, *, fund_change: bool) -> dict[str, Any]:
    p = refund.payment
    body: dict[str, Any] = {
        "code": "10000",
        "msg": "Success",
        "trade_no": p.trade_no,
        "out_trade_no": p.out_trade_no,
        "buyer_logon_id": p.buyer_logon_id,
        "buyer_user_id": p.buyer_user_id,
        "fund_change": "Y" if fund_change else "N",
        "refund_fee": fen_to_yuan(refunded_fen),
        "send_back_fee": fen_to_yuan(refund.amount_fen if fund_change else 0),
    }
    if fund_change and refund.gmt_refund is not None:
        body["gmt_refund_pay"] = beijing(refund.gmt_refund)
    return body


def trade_notification(refund: Refund, refunded_fen: int, now: datetime) -> dict[str, str]:
    """The trade's async notify after a refund (unsigned; the gateway adds notify_id/time and the sign)."""
    p = refund.payment
    refunded = refunded_fen
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
        "gmt_refund": _beijing_ms(refund.gmt_refund or now),
    }
    if full:
        params["gmt_close"] = beijing(refund.gmt_refund or now)
    return params


def deposit_back_info(refund: Refund, now: datetime) -> dict[str, str]:
    at = refund.gmt_refund or now
    return {
        "has_deposit_back": "true",
        "dback_status": "S",
        "dback_amount": fen_to_yuan(refund.amount_fen),
        "bank_ack_time": beijing(at),
        "est_bank_receipt_time": beijing(at + timedelta(days=1)),
    }


def _beijing_ms(at: datetime) -> str:
    local = at.astimezone(BEIJING)
    return f"{local:%Y-%m-%d %H:%M:%S}.{local.microsecond // 1000:03d}"
