"""WeChat Pay's refund rules as a state machine, with no HTTP in it: the simulator's source of truth.

A refund is created ``PROCESSING`` and later becomes ``SUCCESS``, ``CLOSED`` or ``ABNORMAL``
("申请退款接口的返回仅代表业务的受理情况"). One ``out_refund_no`` is one refund whatever the client does:
the same number with the same content answers the existing refund, with different content 400 INVALID_REQUEST.
Faults are chosen per refund number (or by a seeded rate) and are documented on ``FAULTS``.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
    }
)
FAULTS = REQUEST_FAULTS | LIFECYCLE_FAULTS
DEFAULT_RATE_FAULTS = ("system_error", "http_500", "no_answer_after_accept", "processing_then_success")


class BookError(Exception):
    """A WeChat Pay error answer: HTTP status, ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class FaultSpec:
    name: str
    applied: bool | None = None  # for system_error / http_500: did the refund happen behind the error?
    code: str = ""  # for decline: the error code (NOT_ENOUGH, USER_ACCOUNT_ABNORMAL, NO_AUTH…)
    times: int | None = None  # for processing_then_success / callback_before_query


@dataclass
class Payment:
    out_trade_no: str
    transaction_id: str
    total_fen: int
    paid_at: datetime
    user_received_account: str = "支付用户零钱"


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
    query_lag: int = 0  # queries still answered PROCESSING although it has finished (callback_before_query)
    success_at: datetime | None = None
    received_account: str = ""  # set when an abnormal refund is redirected; else the payment's account
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CreateResult:
    """What the HTTP layer should do: answer ``body`` with ``status``, or misbehave as ``action`` says."""

    status: int
    body: dict[str, Any] | None
    action: str = "answer"  # answer | hang | drop | bare_500


def rfc3339(at: datetime) -> str:
    return at.astimezone(SHANGHAI).isoformat(timespec="seconds")


class RefundBook:
    """Payments, refunds and fault plans, all under one lock. ``on_final`` is told when a refund reaches a
    final status (to send its notification); ``schedule_settle`` asks for ``settle(no)`` after a delay."""

    def __init__(
        self,
        mchid: str,
        clock: Callable[[], datetime],
        on_final: Callable[[Refund], None],
        schedule_settle: Callable[[str], None] | None,
        *,
        processing_queries: int = 2,
        min_gap_same_order: timedelta = timedelta(0),
        accept_unknown_orders: bool = False,
        default_notify_url: str = "",
        fault_rate: float = 0.0,
        rate_faults: Iterable[str] = DEFAULT_RATE_FAULTS,
        seed: int = 0,
    ) -> None:
        self.mchid = mchid
        self._clock = clock
        self._on_final = on_final
        self._schedule_settle = schedule_settle
        self._processing_queries = processing_queries
        self._min_gap = min_gap_same_order
        self._accept_unknown = accept_unknown_orders
        self._default_notify_url = default_notify_url
        self._fault_rate = fault_rate
        self._rate_faults = tuple(rate_faults)
        unknown = set(self._rate_faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown faults: {sorted(unknown)}")
        self._rng = random.Random(seed)  # noqa: S311 - reproducible fault injection, not cryptography
        self._lock = threading.RLock()
        self._payments: dict[str, Payment] = {}
        self._by_transaction: dict[str, Payment] = {}
        self._refunds: dict[str, Refund] = {}
        self._faults: dict[str, list[FaultSpec]] = {}
        self._last_create: dict[str, datetime] = {}
        self._seq = itertools.count(1)

    # ---- set-up -------------------------------------------------------------------------------------------

    def add_payment(
        self,
        out_trade_no: str,
        total_fen: int,
        paid_at: datetime | None = None,
        transaction_id: str | None = None,
        user_received_account: str = "支付用户零钱",
    ) -> str:
        if total_fen <= 0:
            raise ValueError("total_fen must be positive")
        paid = paid_at or self._clock()
        if paid.tzinfo is None:
            raise ValueError("paid_at must be timezone-aware")
        with self._lock:
            tx = transaction_id or f"42000{next(self._seq):05d}{paid.astimezone(SHANGHAI):%Y%m%d}{self._digits(10)}"
            payment = Payment(out_trade_no, tx, total_fen, paid, user_received_account)
            self._payments[out_trade_no] = payment
            self._by_transaction[tx] = payment
            return tx

    def set_fault(self, refund_no: str, spec: FaultSpec) -> None:
        if spec.name not in FAULTS:
            raise ValueError(f"unknown fault {spec.name!r}; known: {sorted(FAULTS)}")
        with self._lock:
            self._faults.setdefault(refund_no, []).append(spec)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # ---- the API ------------------------------------------------------------------------------------------

    def create(self, body: Any) -> CreateResult:
        """``POST /v3/refund/domestic/refunds``: validation, idempotency, business rules, then faults."""
        try:
            with self._lock:
                return self._create(body)
        except BookError as e:
            return CreateResult(e.status, e.body())

    def query(self, out_refund_no: str) -> tuple[int, dict[str, Any]]:
        """``GET /v3/refund/domestic/refunds/{out_refund_no}``; a query is also when a refund may move on."""
        with self._lock:
            r = self._refunds.get(out_refund_no)
            if r is None:
                return 404, BookError(404, "RESOURCE_NOT_EXISTS", "退款单不存在").body()
            shown: str | None = None
            if r.status == PROCESSING:
                if r.hold_queries > 0:
                    r.hold_queries -= 1
                else:
                    self._finish(r)
            elif r.query_lag > 0:
                r.query_lag -= 1
                shown = PROCESSING
            return 200, self._refund_object(r, shown)

    def apply_abnormal(self, refund_id: str, body: Any) -> tuple[int, dict[str, Any]]:
        """``POST …/{refund_id}/apply-abnormal-refund``: an ABNORMAL refund is sent again to a bank card."""
        with self._lock:
            r = next((x for x in self._refunds.values() if x.refund_id == refund_id), None)
            if not isinstance(body, dict) or body.get("type") not in ("USER_BANK_CARD", "MERCHANT_BANK_CARD"):
                return 400, BookError(400, "PARAM_ERROR", "type 取值错误").body()
            if r is None or body.get("out_refund_no") != r.out_refund_no:
                return 404, BookError(404, "RESOURCE_NOT_EXISTS", "退款单不存在").body()
            if body["type"] == "USER_BANK_CARD" and not (body.get("bank_account") and body.get("real_name")):
                return 400, BookError(400, "PARAM_ERROR", "bank_account 和 real_name 必填").body()
            if r.status != ABNORMAL:
                return 400, BookError(400, "INVALID_REQUEST", "退款单状态不是异常，无法发起异常退款").body()
            r.status, r.heading_to, r.hold_queries = PROCESSING, SUCCESS, 0
            r.received_account = "用户银行卡" if body["type"] == "USER_BANK_CARD" else "商户基本账户"
            r.history.append(f"{rfc3339(self._clock())} apply-abnormal-refund {body['type']}")
            if self._schedule_settle is not None:
                self._schedule_settle(r.out_refund_no)
            return 200, self._refund_object(r)

    def settle(self, out_refund_no: str) -> None:
        """Time has passed: a refund still PROCESSING (and not held by a fault) reaches its final status."""
        with self._lock:
            r = self._refunds.get(out_refund_no)
            if r is not None and r.status == PROCESSING and r.hold_queries == 0:
                self._finish(r)

    def complete(self, out_refund_no: str) -> None:
        """Force a refund to its final status now, whatever holds it (an operator's or a test's shortcut)."""
        with self._lock:
            r = self._refunds.get(out_refund_no)
            if r is None:
                raise KeyError(out_refund_no)
            if r.status == PROCESSING:
                r.hold_queries = 0
                self._finish(r)

    def ledger(self) -> list[dict[str, Any]]:
        """Every refund the platform accepted, once each. ``executed``: the merchant's money left its account
        (PROCESSING, SUCCESS, ABNORMAL); CLOSED gives it back. ``paid_out``: it reached the payer."""
        with self._lock:
            return [
                {
                    "refund_no": r.out_refund_no,
                    "channel_refund_id": r.refund_id,
                    "out_trade_no": r.payment.out_trade_no,
                    "transaction_id": r.payment.transaction_id,
                    "amount_fen": r.refund_fen,
                    "total_fen": r.payment.total_fen,
                    "status": r.status,
                    "executed": r.status != CLOSED,
                    "paid_out": r.status == SUCCESS,
                    "created_at": rfc3339(r.created_at),
                    "success_time": rfc3339(r.success_at) if r.success_at else None,
                    "history": list(r.history),
                }
                for r in self._refunds.values()
            ]

    def refund(self, out_refund_no: str) -> Refund | None:
        with self._lock:
            return self._refunds.get(out_refund_no)

    def notification_plain(self, r: Refund) -> dict[str, Any]:
        """The decrypted ``resource`` of a refund notification."""
        with self._lock:
            plain: dict[str, Any] = {
                "mchid": self.mchid,
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
            return plain

    # ---- inside -------------------------------------------------------------------------------------------

    def _create(self, body: Any) -> CreateResult:
        req = _validated(body)
        no = req["out_refund_no"]
        existing = self._refunds.get(no)
        if existing is not None:
            if existing.fingerprint != _fingerprint(req):
                raise BookError(400, "INVALID_REQUEST", "退款单号已存在，但请求参数与原请求不一致")
            return CreateResult(200, self._refund_object(existing))

        specs = self._faults.pop(no, [])
        request_fault = next((s for s in specs if s.name in REQUEST_FAULTS), None)
        if request_fault is None and not specs and self._fault_rate > 0 and self._rng.random() < self._fault_rate:
            name = self._rng.choice(self._rate_faults)
            spec = FaultSpec(name, applied=self._rng.random() < 0.5)
            specs = [spec]
            request_fault = spec if name in REQUEST_FAULTS else None
        if request_fault is not None:
            early = _early_answer(request_fault)
            if early is not None:
                return early

        payment = self._payment_for(req)
        self._check_rules(req, payment)
        refund = self._open(req, payment, frozenset(s.name for s in specs), specs)
        if request_fault is None:
            return CreateResult(200, self._refund_object(refund))
        return _late_answer(request_fault, self._refund_object(refund))

    def _payment_for(self, req: dict[str, Any]) -> Payment:
        tx, otn = req.get("transaction_id"), req.get("out_trade_no")
        payment = self._by_transaction.get(tx) if tx else self._payments.get(otn or "")
        if payment is None and self._accept_unknown and otn:
            # Demo convenience: a payment made elsewhere is taken at the request's word (total, paid now).
            self.add_payment(otn, req["amount"]["total"])
            payment = self._payments[otn]
        if payment is None:
            raise BookError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        return payment

    def _check_rules(self, req: dict[str, Any], payment: Payment) -> None:
        now = self._clock()
        amount = req["amount"]
        if amount["total"] != payment.total_fen:
            raise BookError(400, "INVALID_REQUEST", "amount.total 与原订单金额不一致")
        if now > payment.paid_at + REFUND_WINDOW:
            raise BookError(400, "INVALID_REQUEST", "订单已超过可退款的最大期限(365天)")
        mine = [r for r in self._refunds.values() if r.payment is payment]
        if len(mine) >= MAX_REFUNDS_PER_ORDER:
            raise BookError(400, "INVALID_REQUEST", "订单退款次数超过限制(50次)")
        last = self._last_create.get(payment.out_trade_no)
        if self._min_gap and last is not None and now - last < self._min_gap:
            raise BookError(429, "FREQUENCY_LIMITED", "同一订单的退款请求间隔过短，请稍后再试")
        refunded = sum(r.refund_fen for r in mine if r.status != CLOSED)
        if amount["refund"] > payment.total_fen - refunded:
            raise BookError(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")

    def _open(self, req: dict[str, Any], payment: Payment, names: frozenset[str], specs: list[FaultSpec]) -> Refund:
        now = self._clock()
        times = next((s.times for s in specs if s.times is not None), None)
        refund = Refund(
            refund_id=f"50{next(self._seq):06d}{now.astimezone(SHANGHAI):%Y%m%d}{self._digits(13)}",
            out_refund_no=req["out_refund_no"],
            payment=payment,
            refund_fen=req["amount"]["refund"],
            currency=req["amount"]["currency"],
            reason=req.get("reason", ""),
            notify_url=req.get("notify_url") or self._default_notify_url,
            created_at=now,
            fingerprint=_fingerprint(req),
            faults=names,
        )
        refund.history.append(f"{rfc3339(now)} created PROCESSING")
        if "abnormal" in names:
            refund.heading_to = ABNORMAL
        elif "closed" in names:
            refund.heading_to = CLOSED
        if "processing_then_success" in names:
            refund.hold_queries = self._processing_queries if times is None else times
        self._refunds[refund.out_refund_no] = refund
        self._last_create[payment.out_trade_no] = now
        if "callback_before_query" in names:
            refund.query_lag = 1 if times is None else times
            self._finish(refund)
        elif refund.hold_queries == 0 and self._schedule_settle is not None:
            self._schedule_settle(refund.out_refund_no)
        return refund

    def _finish(self, r: Refund) -> None:
        now = self._clock()
        r.status = r.heading_to
        if r.status == SUCCESS:
            r.success_at = now
        r.history.append(f"{rfc3339(now)} {r.status}")
        self._on_final(r)

    def _refund_object(self, r: Refund, shown: str | None = None) -> dict[str, Any]:
        status = shown or r.status
        obj: dict[str, Any] = {
            "refund_id": r.refund_id,
            "out_refund_no": r.out_refund_no,
            "transaction_id": r.payment.transaction_id,
            "out_trade_no": r.payment.out_trade_no,
            "channel": "ORIGINAL",
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

    @staticmethod
    def _digits(n: int) -> str:
        """Id digits: unseeded, so two runs never hand out the same ids and ids do not shift the fault dice."""
        return "".join(str(secrets.randbelow(10)) for _ in range(n))


def _validated(body: Any) -> dict[str, Any]:
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


def _fingerprint(req: dict[str, Any]) -> tuple[Any, ...]:
    """What must not change when one refund number is sent again ("同一退款单号多次请求只退一笔")."""
    amount = req["amount"]
    return (req.get("transaction_id"), req.get("out_trade_no"), amount["refund"], amount["total"], amount["currency"])


def _early_answer(spec: FaultSpec) -> CreateResult | None:
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


def _late_answer(spec: FaultSpec, refund_object: dict[str, Any]) -> CreateResult:
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


def utc_now() -> datetime:
    return datetime.now(UTC)
