"""The simulated Alipay's book of fund authorisations: freezes made with the payer's barcode, unfreezes, payments
out of a freeze (``alipay.trade.pay`` with ``auth_no``), their queries and the cancel of a freeze whose result the
merchant does not know, with faults per operation number. Rules and bodies are in ``fund_auth_rules``.

Every operation number executes at most once: the same out_request_no (out_trade_no for a payment) and the same
request body answer the same operation again; another body under a used number is refused. The ledger counts the
requests and the executions per number, and ``holds()`` shows each freeze's totals.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from posrefund.simulators.alipay.crypto import BEIJING, fen_to_yuan, yuan_to_fen
from posrefund.simulators.alipay.fund_auth_rules import (
    AUTHORIZED,
    CLOSED,
    DISCORDANT,
    FINISH,
    FROZEN,
    FUND_AUTH_FAULTS,
    INIT,
    PAID,
    PRODUCT_CODE,
    SUCCESS,
    UNFROZEN,
    Conversion,
    FreezeOrder,
    Operation,
    cancel_body,
    detail_body,
    ledger_rows,
    operation_body,
    refusal,
    trade_body,
)
from posrefund.simulators.alipay.rules import Result
from posrefund.simulators.common.faults import HANDLED_HERE, FaultPlan
from posrefund.simulators.common.ledger import KeepsBooks, RefundLedger
from posrefund.simulators.common.side_door import Route, fault_route

_REQUEST_FAULTS = FUND_AUTH_FAULTS - HANDLED_HERE - {"payer_confirming"}
_AUTH_CODE = re.compile(r"(2[5-9]|30)\d{14,22}")  # "25~30开头的长度为16~24位的数字"
_CONFIRM_MODES = ("COMPLETE", "NOT_COMPLETE")


class FundAuthBook(RefundLedger):
    """Thread-safe state of the simulated fund authorisations: every rule runs under one lock."""

    def __init__(self, clock: Callable[[], datetime], faults: FaultPlan) -> None:
        super().__init__(clock, faults)
        self._orders: dict[str, FreezeOrder] = {}  # by auth_no
        self._by_out_order_no: dict[str, FreezeOrder] = {}
        self._trades: dict[str, Conversion] = {}  # by out_trade_no
        self._seq = itertools.count(1)

    # ---- alipay.fund.auth.order.freeze -------------------------------------------------------------------

    def freeze(self, biz: dict[str, Any]) -> Result:
        with self._lock:
            asked = _freeze_request(biz)
            if isinstance(asked, Result):
                return asked
            out_order_no, out_request_no, amount = asked
            self.count_request(out_request_no)
            existing = self._by_out_order_no.get(out_order_no)
            if existing is not None:
                op = existing.operation(out_request_no)
                if op is not None and op.kind == FROZEN:
                    return self._repeat(existing, op, biz, operation_body)
                return refusal("ILLEGAL_ARGUMENT", "授权订单号已存在（当面资金授权不支持追加冻结）")
            waits = any(f.name == "payer_confirming" for f in self.faults.planned(out_request_no))
            go, failure = self._shaped(out_request_no, "SYSTEM_ERROR")
            if not go:
                return failure or refusal("SYSTEM_ERROR")
            order = self._new_order(out_order_no, str(biz.get("order_title") or ""))
            op = self._new_operation(order, out_request_no, FROZEN, amount, biz)
            if waits:
                op.status = INIT
            else:
                self._execute(order, op)
            op.answer = operation_body(order, op)
            return failure or Result(op.answer)

    def payer_confirms(self, out_request_no: str) -> bool:
        """The payer confirms a freeze answered INIT (``payer_confirming``): it succeeds now."""
        with self._lock:
            for order in self._orders.values():
                op = order.operation(out_request_no)
                if op is not None and op.kind == FROZEN and op.status == INIT:
                    self._execute(order, op)
                    return True
        return False

    # ---- alipay.fund.auth.order.unfreeze -----------------------------------------------------------------

    def unfreeze(self, biz: dict[str, Any]) -> Result:
        with self._lock:
            auth_no, out_request_no = str(biz.get("auth_no") or ""), str(biz.get("out_request_no") or "")
            amount = _amount(biz.get("amount"))
            if not auth_no or not out_request_no or amount is None or len(str(biz.get("remark") or "")) > 100:
                return refusal("ILLEGAL_ARGUMENT")
            self.count_request(out_request_no)
            order = self._orders.get(auth_no)
            if order is None:
                return refusal("AUTH_ORDER_NOT_EXIST")
            op = order.operation(out_request_no)
            if op is not None:
                return self._repeat(order, op, biz, operation_body) if op.kind == UNFROZEN else _discordant()
            refused = _unfreeze_refused(order, amount)
            if refused is not None:
                return refused
            go, failure = self._shaped(out_request_no, "SYSTEM_ERROR")
            if not go:
                return failure or refusal("SYSTEM_ERROR")
            op = self._new_operation(order, out_request_no, UNFROZEN, amount, biz)
            op.remark = str(biz.get("remark") or "")
            self._execute(order, op)
            op.answer = operation_body(order, op)
            return failure or Result(op.answer)

    # ---- alipay.trade.pay with auth_no (冻结转支付) and alipay.trade.query ---------------------------------

    def trade_pay(self, biz: dict[str, Any]) -> Result:
        with self._lock:
            out_trade_no, auth_no = str(biz.get("out_trade_no") or ""), str(biz.get("auth_no") or "")
            amount, mode = _amount(biz.get("total_amount")), str(biz.get("auth_confirm_mode") or "NOT_COMPLETE")
            if not out_trade_no or not auth_no or amount is None or mode not in _CONFIRM_MODES:
                return refusal("ACQ.INVALID_PARAMETER", "本模拟器只受理带 auth_no 的预授权转支付")
            self.count_request(out_trade_no)
            paid = self._trades.get(out_trade_no)
            if paid is not None:
                same = (paid.order.auth_no, paid.amount_fen) == (auth_no, amount)
                return refusal("ACQ.TRADE_HAS_SUCCESS" if same else "ACQ.CONTEXT_INCONSISTENT")
            order = self._orders.get(auth_no)
            refused = _pay_refused(order, str(biz.get("product_code") or ""), amount)
            if refused is not None or order is None:
                return refused or refusal("ACQ.AUTH_NO_ERROR")
            go, failure = self._shaped(out_trade_no, "ACQ.SYSTEM_ERROR")
            if not go:
                return failure or refusal("ACQ.SYSTEM_ERROR")
            conversion = self._convert(order, out_trade_no, amount, mode, biz)
            return failure or Result(trade_body(conversion, query=False))

    def trade_query(self, biz: dict[str, Any]) -> Result:
        with self._lock:
            out_trade_no, trade_no = str(biz.get("out_trade_no") or ""), str(biz.get("trade_no") or "")
            if trade_no:  # "trade_no wins"
                found = next((c for c in self._trades.values() if c.trade_no == trade_no), None)
            else:
                found = self._trades.get(out_trade_no)
            return Result(trade_body(found, query=True)) if found else refusal("ACQ.TRADE_NOT_EXIST")

    # ---- alipay.fund.auth.operation.detail.query and .cancel ---------------------------------------------

    def detail_query(self, biz: dict[str, Any]) -> Result:
        with self._lock:
            found = self._operation_of(biz)
            if isinstance(found, Result):
                return found
            return Result(detail_body(*found))

    def cancel(self, biz: dict[str, Any]) -> Result:
        """撤销 a freeze whose result the merchant does not know: not yet confirmed → closed with nothing moved
        (action close); frozen and untouched → everything released (action unfreeze). A freeze already paid out
        of is refused. Cancelling again answers the same."""
        with self._lock:
            found = self._operation_of(biz)
            if isinstance(found, Result):
                return found
            order, op = found
            if op.kind != FROZEN:
                return refusal("ILLEGAL_ARGUMENT", "只能撤销冻结操作")
            refused = self.faults.take(op.out_request_no, frozenset({"decline"}))
            if refused is not None:  # a planned refusal of the cancel (Alipay will not withdraw it)
                return refusal(refused.code or "ILLEGAL_ARGUMENT")
            if order.status != CLOSED and (order.total(PAID) or order.total(UNFROZEN)):
                return refusal("ILLEGAL_ARGUMENT", "授权订单已发生解冻或转支付，不能撤销")
            if order.status != CLOSED:
                action = "close" if op.status == INIT else "unfreeze"
                if op.status == INIT:
                    op.status = CLOSED
                else:
                    rest = self._new_operation(order, f"CANCEL-{op.operation_id}", UNFROZEN, order.rest_fen, biz)
                    self._execute(order, rest)
                order.status = CLOSED
                op.answer["action"] = action
            return Result(cancel_body(order, op, str(op.answer.get("action", "close"))))

    def lapse(self, auth_no: str) -> bool:
        """Alipay ends a freeze by itself (its own time limit passed): whatever is still frozen goes back to the
        payer and the order is closed; a later unfreeze is refused ORDER_ALREADY_CLOSED. False if none open."""
        with self._lock:
            order = self._orders.get(auth_no)
            if order is None or order.status != AUTHORIZED:
                return False
            if order.rest_fen:
                rest = self._new_operation(order, f"LAPSE-{auth_no}", UNFROZEN, order.rest_fen, {})
                self._execute(order, rest)
            order.status = CLOSED
            return True

    # ---- inspection --------------------------------------------------------------------------------------

    def holds(self) -> list[dict[str, Any]]:
        """Each freeze's totals as Alipay counts them (frozen, unfrozen, paid, rest) and its status."""
        with self._lock:
            return [order.summary() for order in self._orders.values()]

    def _rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for order in self._orders.values():
            conversions = [c for c in self._trades.values() if c.order is order]
            rows.extend(ledger_rows(order, conversions, self._requests))
        return rows

    def settle(self, key: str | None = None) -> bool:
        return self.payer_confirms(key or "")

    # ---- inside the lock ---------------------------------------------------------------------------------

    def _shaped(self, number: str, system_error: str) -> tuple[bool, Result | None]:
        """(whether the operation goes ahead, the answer a request fault puts in place of the real one)."""
        spec = self.faults.take(number, _REQUEST_FAULTS)
        if spec is None:
            return True, None
        if spec.name == "decline":
            return False, refusal(spec.code or "ILLEGAL_ARGUMENT")
        if spec.name == "no_answer_after_accept":
            return True, Result({}, "hang")
        if spec.name == "drop_after_accept":
            return True, Result({}, "drop")
        if spec.name == "system_error":
            return bool(spec.applied), refusal(system_error)
        return bool(spec.applied), Result({}, "bare_500")

    def _repeat(
        self,
        order: FreezeOrder,
        op: Operation,
        biz: dict[str, Any],
        body: Callable[[FreezeOrder, Operation], dict[str, Any]],
    ) -> Result:
        """The same number again: the same request answers the operation as it stands; another is refused."""
        return Result(body(order, op)) if biz == op.body else _discordant()

    def _new_order(self, out_order_no: str, title: str) -> FreezeOrder:
        now = self._clock().astimezone(BEIJING)
        order = FreezeOrder(
            auth_no=f"{now:%Y%m%d}10002001{next(self._seq):012d}",
            out_order_no=out_order_no,
            title=title,
            payer_user_id="2088102177846880",
            payer_logon_id="159****5620",
        )
        self._orders[order.auth_no] = order
        self._by_out_order_no[out_order_no] = order
        return order

    def _new_operation(self, order: FreezeOrder, number: str, kind: str, amount: int, biz: dict[str, Any]) -> Operation:
        now = self._clock()
        op = Operation(f"{now.astimezone(BEIJING):%Y%m%d}{next(self._seq):012d}", number, kind, amount, INIT, now)
        op.body = dict(biz)
        order.operations.append(op)
        return op

    def _execute(self, order: FreezeOrder, op: Operation) -> None:
        op.status, op.gmt_trans, op.executions = SUCCESS, self._clock(), op.executions + 1
        if op.kind == FROZEN:
            order.status = AUTHORIZED
        order.settle_status()

    def _convert(
        self, order: FreezeOrder, out_trade_no: str, amount: int, mode: str, biz: dict[str, Any]
    ) -> Conversion:
        """Pay ``amount`` out of the freeze; COMPLETE also releases what is left and ends the order. The payment
        is kept among the order's operations under its out_trade_no (for its detail query)."""
        pay = self._new_operation(order, out_trade_no, PAID, amount, biz)
        now = self._clock()
        conversion = Conversion(
            out_trade_no, f"{now.astimezone(BEIJING):%Y%m%d}22001{next(self._seq):015d}", order, amount, mode, now, biz
        )
        self._trades[out_trade_no] = conversion
        self._execute(order, pay)
        if mode == "COMPLETE" and order.status == AUTHORIZED:
            rest = self._new_operation(order, f"{out_trade_no}-REST", UNFROZEN, order.rest_fen, biz)
            self._execute(order, rest)
            order.status = FINISH
        return conversion

    def _operation_of(self, biz: dict[str, Any]) -> tuple[FreezeOrder, Operation] | Result:
        auth_no, out_order_no = str(biz.get("auth_no") or ""), str(biz.get("out_order_no") or "")
        operation_id, out_request_no = str(biz.get("operation_id") or ""), str(biz.get("out_request_no") or "")
        if not (auth_no or out_order_no) or not (operation_id or out_request_no):
            return refusal("ILLEGAL_ARGUMENT")
        order = self._orders.get(auth_no) if auth_no else self._by_out_order_no.get(out_order_no)
        if order is None:
            return refusal("AUTH_ORDER_NOT_EXIST")
        op = order.operation(out_request_no, operation_id)
        return (order, op) if op is not None else refusal("AUTH_OPERATION_NOT_EXIST")


def _amount(value: object) -> int | None:
    fen = yuan_to_fen(value) if isinstance(value, str) else None
    return fen if fen is not None and fen > 0 else None


def _discordant() -> Result:
    return refusal("ILLEGAL_ARGUMENT", DISCORDANT)


def _freeze_request(biz: dict[str, Any]) -> tuple[str, str, int] | Result:
    """(out_order_no, out_request_no, amount in fen) of a barcode freeze, or the refusal of a malformed one."""
    out_order_no, out_request_no = str(biz.get("out_order_no") or ""), str(biz.get("out_request_no") or "")
    amount = _amount(biz.get("amount"))
    if not out_order_no or not out_request_no or amount is None or len(out_request_no) > 64:
        return refusal("ILLEGAL_ARGUMENT")
    if not biz.get("order_title"):
        return refusal("ILLEGAL_ARGUMENT", "order_title 不能为空")
    if biz.get("product_code") != PRODUCT_CODE:
        return refusal("ILLEGAL_ARGUMENT", f"product_code 应为 {PRODUCT_CODE}")
    if biz.get("auth_code_type") != "bar_code" or not _AUTH_CODE.fullmatch(str(biz.get("auth_code") or "")):
        return refusal("ILLEGAL_ARGUMENT", "支付授权码无效")
    return out_order_no, out_request_no, amount


def _unfreeze_refused(order: FreezeOrder, amount: int) -> Result | None:
    if order.status == CLOSED:
        return refusal("ORDER_ALREADY_CLOSED")
    if order.status == FINISH:
        return refusal("ORDER_ALREADY_FINISH")
    if order.status == INIT:
        return refusal("ILLEGAL_ARGUMENT", "冻结尚未成功")
    if amount > order.rest_fen:
        return refusal("REQUEST_AMOUNT_EXCEED", f"请求解冻金额超限（剩余 {fen_to_yuan(order.rest_fen)} 元）")
    return None


def _pay_refused(order: FreezeOrder | None, product_code: str, amount: int) -> Result | None:
    if product_code != PRODUCT_CODE:
        return refusal("ACQ.PRE_AUTH_PROD_CODE_INCONSISTENT")
    if order is None:
        return refusal("ACQ.AUTH_NO_ERROR")
    if order.status == INIT:
        return refusal("ACQ.AUTH_ORDER_NOT_PAID")
    if order.status == CLOSED:
        return refusal("ACQ.AUTH_ORDER_HAS_CLOSED")
    if order.status == FINISH:
        return refusal("ACQ.AUTH_ORDER_HAS_FINISHED")
    if amount > order.rest_fen:
        return refusal("ACQ.AUTH_AMOUNT_NOT_ENOUGH")
    return None


class FundAuthDesk(KeepsBooks):
    """The simulator's face of its fund-authorisation book, like its refund book's: plan faults per operation
    number (``set_fault``, names in ``fund_auth_rules.FUND_AUTH_FAULTS``), read the ledger, see each freeze's
    totals, let a payer confirm a freeze left waiting."""

    book: FundAuthBook

    def __init__(self, book: FundAuthBook) -> None:
        self.book = book

    def holds(self) -> list[dict[str, Any]]:
        return self.book.holds()

    def payer_confirms(self, out_request_no: str) -> bool:
        return self.book.payer_confirms(out_request_no)

    def lapse(self, auth_no: str) -> bool:
        return self.book.lapse(auth_no)


def fund_auth_routes(desk: FundAuthDesk) -> dict[tuple[str, str], Route]:
    """Side doors for fund authorisation: ``GET fund-auth/ledger``, ``GET fund-auth/holds``, ``POST fund-auth/faults
    {refund_no: <operation number>, fault, applied?, code?, times?, seconds?}``, ``POST fund-auth/confirm
    {out_request_no}`` (the payer confirms a freeze left waiting)."""

    def confirm(payload: dict[str, Any]) -> tuple[int, Any]:
        return 200, {"confirmed": desk.payer_confirms(str(payload["out_request_no"]))}

    return {
        ("GET", "fund-auth/ledger"): lambda _: (200, desk.ledger()),
        ("GET", "fund-auth/holds"): lambda _: (200, desk.holds()),
        ("POST", "fund-auth/faults"): fault_route(desk.book.set_fault),
        ("POST", "fund-auth/confirm"): confirm,
    }
