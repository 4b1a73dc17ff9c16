"""WeChat Pay's refund rules that need no state: the request's shape, what must not change under one
``out_refund_no``, the Refund object and notification resource it answers with, and what each request fault
answers. The faults themselves are documented on ``FAULTS``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from posrefund.simulators.common.faults import HANDLED_HERE, Fault, supported_names

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROCESSING, SUCCESS, CLOSED, ABNORMAL = "PROCESSING", "SUCCESS", "CLOSED", "ABNORMAL"
MAX_REFUNDS_PER_ORDER = 50
REFUND_WINDOW = timedelta(days=365)
_OUT_REFUND_NO = re.compile(r"^[0-9A-Za-z_\-|*@]{1,64}$")

# Faults that act on the create request (consumed by the first create of that refund number).
REQUEST_FAULTS = frozenset(
    {
        "no_answer_after_accept",  # refund executed, the answer never comes (held until the client gives up)
        "drop_after_accept",  # refund executed, connection closed without an answer
        "system_error",  # 500 SYSTEM_ERROR; refund executed unless applied=False
        "system_error_no_effect",  # 500 SYSTEM_ERROR; nothing executed
        "http_500",  # bare 500 from a gateway (HTML, unsigned); nothing executed unless applied=True
        "decline",  # 403 NOT_ENOUGH (or the given code), nothing executed
        "frequency_limited",  # 429 FREQUENCY_LIMITED, nothing executed
    }
)
# Faults that shape the refund's life once it exists.
LIFECYCLE_FAULTS = frozenset(
    {
        "processing_then_success",  # PROCESSING on `times` queries (default 2), then SUCCESS
        "abnormal",  # PROCESSING, then ABNORMAL (e.g. the payer's card account was closed)
        "closed",  # PROCESSING, then CLOSED (the "7 days without funds" case)
        "duplicate_callback",  # the notification is delivered twice (same id, signed afresh)
        "bad_signature_callback",  # a notification signed with a wrong key arrives before the genuine one
        "callback_before_query",  # final at once and notified, while `times` queries (default 1) lag PROCESSING
        "wrong_amount_callback",  # the notification (correctly signed) states 1 fen refunded, whatever was asked
        "late_callback",  # the notification leaves late (common.faults.LATE_CALLBACK_SECONDS)
    }
)
FAULTS = REQUEST_FAULTS | LIFECYCLE_FAULTS | HANDLED_HERE
# Canonical names that differ from WeChat's own: a refund CLOSED after it was taken is the platform undoing it.
FAULT_NAMES = supported_names(FAULTS, {"host_reversal": "closed"})
# Faults of an abnormal-refund application (``RefundBook.set_apply_fault``).
APPLY_FAULTS = frozenset({"drop_after_accept", "system_error_no_effect", "abnormal"})
# The debit cards an abnormal refund may go to (USER_BANK_CARD), by WeChat Pay's bank-type code.
ABNORMAL_BANKS = frozenset(
    {
        "CMB_DEBIT",
        "COMM_DEBIT",
        "ABC_DEBIT",
        "CCB_DEBIT",
        "ICBC_DEBIT",
        "BOC_DEBIT",
        "PAB_DEBIT",
        "SPDB_DEBIT",
        "CITIC_DEBIT",
        "CEB_DEBIT",
        "CMBC_DEBIT",
        "CIB_DEBIT",
        "GDB_DEBIT",
        "PSBC_DEBIT",
        "NBCB_DEBIT",
    }
)
DEFAULT_RATE_FAULTS = ("system_error", "http_500", "no_answer_after_accept", "processing_then_success")


class BookError(Exception):
    """A WeChat Pay error answer: HTTP status, ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass
class Payment:
    out_trade_no: str
    transaction_id: str
    total_fen: int
    paid_at: datetime
    user_received_account: str = "支付用户零钱"
    sub_mchid: str = ""  # the sub-merchant that took the payment (服务商 mode)


@dataclass
class Refund:
    refund_id: str
    out_refund_no: str
    payment: Payment
    refund_fen: int
    currency: str
    reason: str
    notify_url: str
    created_at: datetime
    fingerprint: tuple[Any, ...]
    faults: frozenset[str]
    status: str = PROCESSING  # the truth
    heading_to: str = SUCCESS  # the final status it will reach
    hold_queries: int = 0  # queries still answered PROCESSING before it may finish
    held_until: float = 0.0  # time.monotonic() before which it stays PROCESSING (a `processing` fault with seconds)
    query_lag: int = 0  # queries still answered PROCESSING although it has finished (callback_before_query)
    success_at: datetime | None = None
    received_account: str = ""  # set when an abnormal refund is redirected; else the payment's account
    channel: str = "ORIGINAL"  # ORIGINAL (back the way it was paid) | OTHER_BANKCARD (redirected to a card)
    abnormal_applications: int = 0  # abnormal-refund applications taken (each one sends the money again)
    applied_kind: str = ""  # the type of the last application taken
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CreateResult:
    """What the HTTP layer should do: answer ``body`` with ``status``, or misbehave as ``action`` says."""

    status: int
    body: dict[str, Any] | None
    action: str = "answer"  # answer | hang | drop | bare_500


def rfc3339(at: datetime) -> str:
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds")


def utc_now() -> datetime:
    return datetime.now(UTC)


def refund_object(r: Refund, shown: str | None = None) -> dict[str, Any]:
    status = shown or r.status
    obj: dict[str, Any] = {
        "refund_id": r.refund_id,
        "out_refund_no": r.out_refund_no,
        "transaction_id": r.payment.transaction_id,
        "out_trade_no": r.payment.out_trade_no,
        "channel": r.channel,
        "user_received_account": r.received_account or r.payment.user_received_account,
        "create_time": rfc3339(r.created_at),
        "status": status,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": r.payment.total_fen,
            "refund": r.refund_fen,
            "from": [],
            "payer_total": r.payment.total_fen,
            "payer_refund": r.refund_fen,
            "settlement_refund": r.refund_fen,
            "settlement_total": r.payment.total_fen,
            "discount_refund": 0,
            "currency": r.currency,
            "refund_fee": 0,
        },
        "promotion_detail": [],
    }
    if status == SUCCESS and r.success_at is not None:
        obj["success_time"] = rfc3339(r.success_at)
    return obj


def notification_plain(mchid: str, r: Refund, service_provider: bool = False) -> dict[str, Any]:
    """The decrypted ``resource`` of a refund notification (服务商: ``sp_mchid`` and ``sub_mchid`` for ``mchid``)."""
    merchant = {"sp_mchid": mchid, "sub_mchid": r.payment.sub_mchid} if service_provider else {"mchid": mchid}
    plain: dict[str, Any] = {
        **merchant,
        "out_trade_no": r.payment.out_trade_no,
        "transaction_id": r.payment.transaction_id,
        "out_refund_no": r.out_refund_no,
        "refund_id": r.refund_id,
        "refund_status": r.status,
        "user_received_account": r.received_account or r.payment.user_received_account,
        "amount": {
            "total": r.payment.total_fen,
            "refund": r.refund_fen,
            "payer_total": r.payment.total_fen,
            "payer_refund": r.refund_fen,
        },
    }
    if r.success_at is not None:
        plain["success_time"] = rfc3339(r.success_at)
    if "wrong_amount_callback" in r.faults:
        plain["amount"]["refund"] = plain["amount"]["payer_refund"] = 1 if r.refund_fen != 1 else 2
    return plain


def validated(body: Any) -> dict[str, Any]:
    """The request's shape (PARAM_ERROR), before any business rule."""

    def bad(message: str) -> BookError:
        return BookError(400, "PARAM_ERROR", message)

    if not isinstance(body, dict):
        raise bad("请求体不是合法的JSON对象")
    no = body.get("out_refund_no")
    if not isinstance(no, str) or not _OUT_REFUND_NO.match(no):
        raise bad("out_refund_no 格式错误：1-64位，只能是数字、大小写字母及_-|*@")
    if not any(isinstance(body.get(k), str) and body.get(k) for k in ("transaction_id", "out_trade_no")):
        raise bad("transaction_id 和 out_trade_no 必须二选一")
    amount = body.get("amount")
    if not isinstance(amount, dict):
        raise bad("缺少 amount")
    for key in ("refund", "total"):
        value = amount.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise bad(f"amount.{key} 必须是正整数（单位：分）")
    if amount.get("currency") != "CNY":
        raise bad("amount.currency 只支持 CNY")
    if amount["refund"] > amount["total"]:
        raise bad("amount.refund 不能大于 amount.total")
    sources = amount.get("from")
    if sources:
        if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
            raise bad("amount.from 格式错误")
        if sum(int(s.get("amount", 0)) for s in sources) != amount["refund"]:
            raise bad("amount.from 的金额之和必须等于 amount.refund")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason.encode()) > 80:
        raise bad("reason 不能超过80字节")
    notify_url = body.get("notify_url", "")
    if not isinstance(notify_url, str) or len(notify_url) > 256 or "?" in notify_url:
        raise bad("notify_url 格式错误：不超过256字符，不能携带参数")
    return body


def fingerprint(req: dict[str, Any]) -> tuple[Any, ...]:
    """What must not change when one refund number is sent again ("同一退款单号多次请求只退一笔")."""
    amount = req["amount"]
    return (req.get("transaction_id"), req.get("out_trade_no"), amount["refund"], amount["total"], amount["currency"])


def checked_abnormal(body: Any, r: Refund | None, sub_merchants: frozenset[str] | None) -> str:
    """The shape of an abnormal-refund application and the refund it names; its ``type`` when acceptable."""
    if not isinstance(body, dict) or body.get("type") not in ("USER_BANK_CARD", "MERCHANT_BANK_CARD"):
        raise BookError(400, "PARAM_ERROR", "type 取值错误")
    if not isinstance(body.get("out_refund_no"), str) or not body["out_refund_no"]:
        raise BookError(400, "PARAM_ERROR", "out_refund_no 必填")
    if sub_merchants is not None and not body.get("sub_mchid"):
        raise BookError(400, "PARAM_ERROR", "服务商模式下 sub_mchid 必填")
    if r is None or body["out_refund_no"] != r.out_refund_no:
        raise BookError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    if sub_merchants is not None and body.get("sub_mchid") != r.payment.sub_mchid:
        raise BookError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    if body["type"] == "USER_BANK_CARD":
        if not (body.get("bank_account") and body.get("real_name") and body.get("bank_type")):
            raise BookError(400, "PARAM_ERROR", "退款至用户银行卡时 bank_type、bank_account、real_name 必填")
        if body["bank_type"] not in ABNORMAL_BANKS:
            raise BookError(400, "PARAM_ERROR", "bank_type 不在支持的借记卡银行之列")
    return str(body["type"])


def early_answer(spec: Fault) -> CreateResult | None:
    """Faults that answer before anything is executed."""
    if spec.name == "decline":
        code = spec.code or "NOT_ENOUGH"
        status = 400 if code in ("PARAM_ERROR", "INVALID_REQUEST") else 403
        return CreateResult(status, BookError(status, code, _DECLINE_MESSAGES.get(code, "退款失败")).body())
    if spec.name == "frequency_limited":
        return CreateResult(429, BookError(429, "FREQUENCY_LIMITED", "频率超限，请降低请求频率").body())
    if spec.name == "system_error_no_effect" or (spec.name == "system_error" and spec.applied is False):
        return CreateResult(500, BookError(500, "SYSTEM_ERROR", "系统错误").body())
    if spec.name == "http_500" and not spec.applied:
        return CreateResult(500, None, "bare_500")
    return None


def late_answer(spec: Fault, refund_object: dict[str, Any]) -> CreateResult:
    """Faults that strike after the refund was executed."""
    if spec.name == "system_error":
        return CreateResult(500, BookError(500, "SYSTEM_ERROR", "系统错误").body())
    if spec.name == "http_500":
        return CreateResult(500, None, "bare_500")
    if spec.name == "no_answer_after_accept":
        return CreateResult(200, refund_object, "hang")
    if spec.name == "drop_after_accept":
        return CreateResult(200, refund_object, "drop")
    return CreateResult(200, refund_object)


_DECLINE_MESSAGES = {
    "NOT_ENOUGH": "商户可用余额不足",
    "USER_ACCOUNT_ABNORMAL": "退款请求失败，用户账户异常",
    "NO_AUTH": "商户无权限",
    "INVALID_REQUEST": "参数符合参数格式，但不符合业务规则",
    "PARAM_ERROR": "参数错误",
}
