"""WeChat Pay's refund rules as a state machine, with no HTTP in it: the simulator's source of truth.

A refund is created ``PROCESSING`` and later becomes ``SUCCESS``, ``CLOSED`` or ``ABNORMAL``
("申请退款接口的返回仅代表业务的受理情况"). One ``out_refund_no`` is one refund whatever the client does:
the same number with the same content answers the existing refund, with different content 400 INVALID_REQUEST.
Faults are chosen per refund number (or by a seeded rate) and are documented on ``rules.FAULTS``.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from posrefund.simulators.common.faults import Fault, FaultPlan
from posrefund.simulators.common.ledger import RefundLedger
from posrefund.simulators.wechatpay.rules import (
    ABNORMAL,
    APPLY_FAULTS,
    CLOSED,
    MAX_REFUNDS_PER_ORDER,
    PROCESSING,
    REFUND_WINDOW,
    REQUEST_FAULTS,
    SHANGHAI,
    SUCCESS,
    BookError,
    CreateResult,
    Payment,
    Refund,
    checked_abnormal,
    early_answer,
    fingerprint,
    late_answer,
    notification_plain,
    refund_object,
    rfc3339,
    validated,
)


class RefundBook(RefundLedger):
    """Payments, refunds and fault plans, all under one lock. ``on_final`` is told when a refund reaches a
    final status (to send its notification); ``schedule_settle`` asks for ``settle(no)`` after a delay."""

    def __init__(
        self,
        mchid: str,
        clock: Callable[[], datetime],
        on_final: Callable[[Refund], None],
        schedule_settle: Callable[[str, float], None] | None,
        faults: FaultPlan,
        *,
        processing_queries: int = 2,
        processing_seconds: float | None = None,
        min_gap_same_order: timedelta = timedelta(0),
        accept_unknown_orders: bool = False,
        default_notify_url: str = "",
        sub_merchants: frozenset[str] | None = None,
    ) -> None:
        super().__init__(clock, faults)
        self.mchid = mchid
        self.sub_merchants = sub_merchants  # None: a direct merchant; else the sub-merchants bound to this 服务商
        self._on_final = on_final
        self._schedule_settle = schedule_settle
        self._processing_queries = processing_queries
        self._processing_seconds = processing_seconds
        self._min_gap = min_gap_same_order
        self._accept_unknown = accept_unknown_orders
        self._default_notify_url = default_notify_url
        self._payments: dict[str, Payment] = {}
        self._by_transaction: dict[str, Payment] = {}
        self._refunds: dict[str, Refund] = {}
        self._last_create: dict[str, datetime] = {}
        self._apply_faults: dict[str, str] = {}
        self._seq = itertools.count(1)

    # ---- set-up -------------------------------------------------------------------------------------------

    def add_payment(
        self,
        out_trade_no: str,
        total_fen: int,
        paid_at: datetime | None = None,
        transaction_id: str | None = None,
        user_received_account: str = "支付用户零钱",
        sub_mchid: str = "",
    ) -> str:
        """Register a paid order the platform knows (in 服务商 mode: taken by ``sub_mchid``); returns its
        ``transaction_id``. ``user_received_account`` is where its refunds go ("招商银行信用卡0403", …)."""
        paid = self._paid_at(total_fen, paid_at)
        with self._lock:
            tx = transaction_id or f"42000{next(self._seq):05d}{paid.astimezone(SHANGHAI):%Y%m%d}{self._digits(10)}"
            payment = Payment(out_trade_no, tx, total_fen, paid, user_received_account, sub_mchid)
            self._payments[out_trade_no] = payment
            self._by_transaction[tx] = payment
            return tx

    # ---- the API ------------------------------------------------------------------------------------------

    def create(self, body: Any) -> CreateResult:
        """``POST /v3/refund/domestic/refunds``: validation, idempotency, business rules, then faults."""
        try:
            with self._lock:
                return self._create(body)
        except BookError as e:
            return CreateResult(e.status, e.body())

    def query(self, out_refund_no: str, sub_mchid: str = "") -> tuple[int, dict[str, Any]]:
        """``GET /v3/refund/domestic/refunds/{out_refund_no}[?sub_mchid=]``; a query is also when a refund may
        move on. A 服务商 sees only the refunds of the sub-merchant it names."""
        with self._lock:
            r = self._refunds.get(out_refund_no)
            if r is not None and self.sub_merchants is not None and r.payment.sub_mchid != sub_mchid:
                r = None
            if r is None:
                return 404, BookError(404, "RESOURCE_NOT_EXISTS", "退款单不存在").body()
            shown: str | None = None
            if r.status == PROCESSING:
                if r.hold_queries > 0:
                    r.hold_queries -= 1
                elif time.monotonic() >= r.held_until:
                    self._finish(r)
            elif r.query_lag > 0:
                r.query_lag -= 1
                shown = PROCESSING
            return 200, refund_object(r, shown)

    def apply_abnormal(self, refund_id: str, body: Any) -> CreateResult:
        """``POST …/{refund_id}/apply-abnormal-refund``: an ABNORMAL refund is sent again to a bank card, once.
        The same application repeated after it was taken answers the refund as it is now (nothing is applied
        twice); a refund that is not ABNORMAL and was never applied is refused."""
        with self._lock:
            r = next((x for x in self._refunds.values() if x.refund_id == refund_id), None)
            try:
                kind = checked_abnormal(body, r, self.sub_merchants)
            except BookError as e:
                return CreateResult(e.status, e.body())
            assert r is not None
            if r.status != ABNORMAL:
                if r.applied_kind == kind:
                    return CreateResult(200, refund_object(r))
                return CreateResult(
                    400, BookError(400, "INVALID_REQUEST", "退款单状态不是异常，无法发起异常退款").body()
                )
            fault = self._apply_faults.pop(r.out_refund_no, "")
            if fault == "system_error_no_effect":
                return CreateResult(500, BookError(500, "SYSTEM_ERROR", "系统错误").body())
            r.abnormal_applications += 1
            r.applied_kind = kind
            r.status, r.hold_queries, r.held_until = PROCESSING, 0, 0.0
            r.heading_to = ABNORMAL if fault == "abnormal" else SUCCESS
            r.received_account = "用户银行卡" if kind == "USER_BANK_CARD" else "商户基本账户"
            r.channel = "OTHER_BANKCARD" if kind == "USER_BANK_CARD" else "ORIGINAL"
            r.history.append(f"{rfc3339(self._clock())} apply-abnormal-refund {kind}")
            if self._schedule_settle is not None:
                self._schedule_settle(r.out_refund_no, 0.0)
            return CreateResult(200, refund_object(r), "drop" if fault == "drop_after_accept" else "answer")

    def set_apply_fault(self, out_refund_no: str, fault: str) -> None:
        """The next abnormal-refund application of this refund: ``drop_after_accept`` (applied, the connection
        drops before the answer), ``system_error_no_effect`` (500, nothing applied) or ``abnormal`` (applied,
        then ABNORMAL again: the second card failed too)."""
        if fault not in APPLY_FAULTS:
            raise ValueError(f"unknown abnormal-refund fault {fault!r}")
        with self._lock:
            self._apply_faults[out_refund_no] = fault

    def settle(self, key: str | None = None) -> None:
        """Time has passed: refund ``key``, still PROCESSING (and not held by a fault), reaches its final status."""
        with self._lock:
            r = self._refunds.get(key or "")
            if r is not None and r.status == PROCESSING and r.hold_queries == 0 and time.monotonic() >= r.held_until:
                self._finish(r)

    def complete(self, out_refund_no: str) -> None:
        """Force a refund to its final status now, whatever holds it (an operator's or a test's shortcut)."""
        with self._lock:
            r = self._refunds.get(out_refund_no)
            if r is None:
                raise KeyError(out_refund_no)
            if r.status == PROCESSING:
                r.hold_queries, r.held_until = 0, 0.0
                self._finish(r)

    def _rows(self) -> list[dict[str, Any]]:
        """Every refund the platform accepted, once each. ``executed``: the merchant's money left its account
        (PROCESSING, SUCCESS, ABNORMAL); CLOSED gives it back. ``paid_out``: it reached the payer."""
        return [
            {
                "refund_no": r.out_refund_no,
                "channel_refund_id": r.refund_id,
                "sub_mchid": r.payment.sub_mchid,
                "out_trade_no": r.payment.out_trade_no,
                "transaction_id": r.payment.transaction_id,
                "amount_fen": r.refund_fen,
                "total_fen": r.payment.total_fen,
                "status": r.status,
                "executed": r.status != CLOSED,
                "reversed": r.status == CLOSED,
                "paid_out": r.status == SUCCESS,
                "created_at": rfc3339(r.created_at),
                "success_time": rfc3339(r.success_at) if r.success_at else None,
                "history": list(r.history),
                "abnormal_applications": r.abnormal_applications,
            }
            for r in self._refunds.values()
        ]

    def notification_plain(self, r: Refund) -> dict[str, Any]:
        """The decrypted ``resource`` of a refund notification."""
        with self._lock:
            return notification_plain(self.mchid, r, self.sub_merchants is not None)

    # ---- inside -------------------------------------------------------------------------------------------

    def _create(self, body: Any) -> CreateResult:
        req = validated(body)
        no = req["out_refund_no"]
        self.count_request(no)
        existing = self._refunds.get(no)
        if existing is not None:
            if existing.fingerprint != fingerprint(req):
                raise BookError(400, "INVALID_REQUEST", "退款单号已存在，但请求参数与原请求不一致")
            return CreateResult(200, refund_object(existing))

        specs = self.faults.pop(no)
        request_fault = next((s for s in specs if s.name in REQUEST_FAULTS), None)
        drawn = self.faults.draw() if request_fault is None and not specs else None
        if drawn is not None:
            spec = Fault(drawn, applied=self.faults.rng.random() < 0.5)
            specs = [spec]
            request_fault = spec if drawn in REQUEST_FAULTS else None
        if request_fault is not None:
            early = early_answer(request_fault)
            if early is not None:
                return early

        payment = self._payment_for(req)
        self._check_sub_merchant(req, payment)
        self._check_rules(req, payment)
        refund = self._open(req, payment, frozenset(s.name for s in specs), specs)
        if request_fault is None:
            return CreateResult(200, refund_object(refund))
        return late_answer(request_fault, refund_object(refund))

    def _payment_for(self, req: dict[str, Any]) -> Payment:
        tx, otn = req.get("transaction_id"), req.get("out_trade_no")
        payment = self._by_transaction.get(tx) if tx else self._payments.get(otn or "")
        if payment is None and self._accept_unknown and otn:
            # Demo convenience: a payment made elsewhere is taken at the request's word (total, paid now).
            self.add_payment(otn, req["amount"]["total"], sub_mchid=str(req.get("sub_mchid") or ""))
            payment = self._payments[otn]
        if payment is None:
            raise BookError(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        return payment

    def _check_sub_merchant(self, req: dict[str, Any], payment: Payment) -> None:
        """服务商 mode: the body names a sub-merchant bound to this provider, and the order is that sub-merchant's."""
        if self.sub_merchants is None:
            return
        sub = req.get("sub_mchid")
        if not isinstance(sub, str) or not sub:
            raise BookError(400, "PARAM_ERROR", "服务商模式下 sub_mchid 必填")
        if sub not in self.sub_merchants:
            raise BookError(403, "NO_AUTH", "子商户号与服务商号不存在绑定关系")
        if payment.sub_mchid != sub:
            raise BookError(404, "RESOURCE_NOT_EXISTS", "订单不存在")

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

    def _open(self, req: dict[str, Any], payment: Payment, names: frozenset[str], specs: list[Fault]) -> Refund:
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
            fingerprint=fingerprint(req),
            faults=names,
        )
        refund.history.append(f"{rfc3339(now)} created PROCESSING")
        if "abnormal" in names:
            refund.heading_to = ABNORMAL
        elif "closed" in names:
            refund.heading_to = CLOSED
        if "processing_then_success" in names:
            self._hold(refund, specs, times)
        self._refunds[refund.out_refund_no] = refund
        self._last_create[payment.out_trade_no] = now
        if "callback_before_query" in names:
            refund.query_lag = 1 if times is None else times
            self._finish(refund)
        elif refund.hold_queries == 0 and self._schedule_settle is not None:
            self._schedule_settle(refund.out_refund_no, max(0.0, refund.held_until - time.monotonic()))
        return refund

    def _hold(self, refund: Refund, specs: list[Fault], times: int | None) -> None:
        """A ``processing`` fault: PROCESSING for ``seconds`` (then it finishes on its own and is notified, as a
        slow refund at WeChat does), or on ``times`` queries; drawn at random: ``processing_seconds`` if set."""
        held = next((s.seconds for s in specs if s.seconds is not None), None)
        if held is None and times is None:
            held = self._processing_seconds
        if held is not None:
            refund.held_until = time.monotonic() + held
        else:
            refund.hold_queries = self._processing_queries if times is None else times

    def _finish(self, r: Refund) -> None:
        now = self._clock()
        r.status = r.heading_to
        if r.status == SUCCESS:
            r.success_at = now
        r.history.append(f"{rfc3339(now)} {r.status}")
        self._on_final(r)

    @staticmethod
    def _digits(n: int) -> str:
        """Id digits: unseeded, so two runs never hand out the same ids and ids do not shift the fault dice."""
        return "".join(str(secrets.randbelow(10)) for _ in range(n))
