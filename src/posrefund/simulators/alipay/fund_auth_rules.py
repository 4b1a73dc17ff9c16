"""Alipay fund authorisation (资金授权, 当面 barcode freeze) as the simulator keeps it: the freeze order and its
operations, the faults a call may be given, the error answers and the response bodies, field by field as
Alipay's SDK models name them (alipay-sdk-java-all ``AlipayFundAuthOrderFreezeResponse``,
``AlipayFundAuthOrderUnfreezeResponse``, ``AlipayFundAuthOperationDetailQueryResponse``,
``AlipayFundAuthOperationCancelResponse``; docs/alipay-fund-auth.md lists the sources).

No state here: ``fund_auth.FundAuthBook`` holds the orders and runs the rules under its lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from posrefund.simulators.alipay.crypto import beijing, fen_to_yuan
from posrefund.simulators.alipay.rules import Result, business_error
from posrefund.simulators.common.faults import HANDLED_HERE

FREEZE = "alipay.fund.auth.order.freeze"
UNFREEZE = "alipay.fund.auth.order.unfreeze"
DETAIL_QUERY = "alipay.fund.auth.operation.detail.query"
CANCEL = "alipay.fund.auth.operation.cancel"
TRADE_PAY = "alipay.trade.pay"
TRADE_QUERY = "alipay.trade.query"
FUND_AUTH_METHODS = (FREEZE, UNFREEZE, DETAIL_QUERY, CANCEL, TRADE_PAY, TRADE_QUERY)
PRODUCT_CODE = "PRE_AUTH"  # 新当面资金授权: the freeze's and the conversion's product code

# Per operation number (out_request_no of a freeze or unfreeze, out_trade_no of a conversion).
FUND_AUTH_FAULTS = (
    frozenset(
        {
            "no_answer_after_accept",  # executed, the answer is held until the client gives up
            "drop_after_accept",  # executed, the connection is closed without an answer
            "system_error",  # 40004 SYSTEM_ERROR (ACQ.SYSTEM_ERROR for trade.pay); executed if applied=True
            "http_500",  # a bare HTTP 500 from the front; executed only if applied=True
            "decline",  # 40004 with `code`; nothing executed
            "payer_confirming",  # freeze answered status INIT: the payer has not confirmed; it stays so until
            # ``payer_confirms`` (or a cancel)
        }
    )
    | HANDLED_HERE
)

# Operation and order states (the SDK's words): an operation is INIT, SUCCESS or CLOSED; the order is INIT
# (nothing frozen yet), AUTHORIZED, FINISH (all of it paid or the rest released after a payment) or CLOSED.
INIT, SUCCESS, CLOSED = "INIT", "SUCCESS", "CLOSED"
AUTHORIZED, FINISH = "AUTHORIZED", "FINISH"
FROZEN, UNFROZEN, PAID = "FREEZE", "UNFREEZE", "PAY"

SUB_MSGS = {
    "ILLEGAL_ARGUMENT": "参数异常或参数缺失",
    "AUTH_ORDER_NOT_EXIST": "支付宝资金授权订单不存在",
    "AUTH_OPERATION_NOT_EXIST": "支付宝资金操作流水不存在",
    "SYSTEM_ERROR": "系统错误",
    "REQUEST_AMOUNT_EXCEED": "请求解冻金额超限",
    "ORDER_ALREADY_CLOSED": "授权订单已经关闭，无法再进行资金操作",
    "ORDER_ALREADY_FINISH": "授权订单已经完结，无法再进行资金操作",
    "ACQ.AUTH_AMOUNT_NOT_ENOUGH": "授权金额不足",
    "ACQ.AUTH_NO_ERROR": "预授权号错误或状态不对",
    "ACQ.AUTH_ORDER_HAS_CLOSED": "预授权订单已关闭",
    "ACQ.AUTH_ORDER_HAS_FINISHED": "预授权订单已经完结",
    "ACQ.AUTH_ORDER_NOT_PAID": "预授权订单未支付",
    "ACQ.PRE_AUTH_PROD_CODE_INCONSISTENT": "预授权产品码不一致",
    "ACQ.TRADE_HAS_SUCCESS": "交易已被支付",
    "ACQ.CONTEXT_INCONSISTENT": "订单信息不一致",
    "ACQ.TRADE_NOT_EXIST": "交易不存在",
    "ACQ.SYSTEM_ERROR": "系统异常",
    "ACQ.INVALID_PARAMETER": "参数无效",
}
# Not found in the sources: what Alipay answers a repeated out_request_no with another body. The simulator
# refuses it with the generic parameter error, named in the message.
DISCORDANT = "同一请求流水号的请求内容不一致"


def refusal(sub_code: str, sub_msg: str = "") -> Result:
    """40004 Business Failed with one of the codes above."""
    return Result(business_error(sub_code, sub_msg or SUB_MSGS.get(sub_code, "业务处理失败")))


@dataclass
class Operation:
    """One 资金操作流水: a freeze, an unfreeze or a payment out of the freeze."""

    operation_id: str
    out_request_no: str
    kind: str  # FREEZE | UNFREEZE | PAY
    amount_fen: int
    status: str
    created_at: datetime
    body: dict[str, Any] = field(default_factory=dict)  # the request's biz_content, for repeats
    answer: dict[str, Any] = field(default_factory=dict)  # the first answer, given again to the same request
    remark: str = ""
    gmt_trans: datetime | None = None
    executions: int = 0  # how many times money moved for this number (never more than one)


@dataclass
class FreezeOrder:
    """One 资金授权订单 (``auth_no``) and its operations in the order they came."""

    auth_no: str
    out_order_no: str
    title: str
    payer_user_id: str
    payer_logon_id: str
    status: str = INIT
    operations: list[Operation] = field(default_factory=list)

    def total(self, kind: str) -> int:
        return sum(op.amount_fen for op in self.operations if op.kind == kind and op.status == SUCCESS)

    @property
    def rest_fen(self) -> int:
        return self.total(FROZEN) - self.total(UNFROZEN) - self.total(PAID)

    def operation(self, out_request_no: str = "", operation_id: str = "") -> Operation | None:
        for op in self.operations:
            if (operation_id and op.operation_id == operation_id) or (
                not operation_id and op.out_request_no == out_request_no
            ):
                return op
        return None

    def settle_status(self) -> None:
        """Nothing left frozen ends the order: FINISH once anything was paid out of it, else CLOSED."""
        if self.status == AUTHORIZED and self.rest_fen == 0:
            self.status = FINISH if self.total(PAID) else CLOSED

    def summary(self) -> dict[str, Any]:
        return {
            "auth_no": self.auth_no,
            "out_order_no": self.out_order_no,
            "order_status": self.status,
            "total_freeze_fen": self.total(FROZEN),
            "total_unfreeze_fen": self.total(UNFROZEN),
            "total_pay_fen": self.total(PAID),
            "rest_fen": self.rest_fen,
        }


@dataclass
class Conversion:
    """A payment made out of a freeze (alipay.trade.pay with ``auth_no``)."""

    out_trade_no: str
    trade_no: str
    order: FreezeOrder
    amount_fen: int
    confirm_mode: str
    paid_at: datetime
    body: dict[str, Any]
    executions: int = 1


def _refs(order: FreezeOrder, op: Operation) -> dict[str, Any]:
    """What every fund-auth answer about one operation starts with."""
    return {
        "code": "10000",
        "msg": "Success",
        "auth_no": order.auth_no,
        "out_order_no": order.out_order_no,
        "operation_id": op.operation_id,
        "out_request_no": op.out_request_no,
    }


def operation_body(order: FreezeOrder, op: Operation) -> dict[str, Any]:
    """The answer to a freeze or an unfreeze (code 10000)."""
    body = {**_refs(order, op), "amount": fen_to_yuan(op.amount_fen), "status": op.status}
    if op.kind == FROZEN:
        body.update(payer_logon_id=order.payer_logon_id, payer_user_id=order.payer_user_id)
    if op.gmt_trans is not None:
        body["gmt_trans"] = beijing(op.gmt_trans)
    return body


def cancel_body(order: FreezeOrder, op: Operation, action: str) -> dict[str, Any]:
    """The answer to alipay.fund.auth.operation.cancel: what the cancel did (close | unfreeze)."""
    return {**_refs(order, op), "action": action}


def detail_body(order: FreezeOrder, op: Operation) -> dict[str, Any]:
    """alipay.fund.auth.operation.detail.query: the operation and the order's totals."""
    body = {
        **_refs(order, op),
        "order_status": order.status,
        "total_freeze_amount": fen_to_yuan(order.total(FROZEN)),
        "rest_amount": fen_to_yuan(order.rest_fen),
        "total_pay_amount": fen_to_yuan(order.total(PAID)),
        "order_title": order.title,
        "payer_logon_id": order.payer_logon_id,
        "payer_user_id": order.payer_user_id,
        "amount": fen_to_yuan(op.amount_fen),
        "operation_type": op.kind,
        "status": op.status,
        "gmt_create": beijing(op.created_at),
    }
    if op.remark:
        body["remark"] = op.remark
    if op.gmt_trans is not None:
        body["gmt_trans"] = beijing(op.gmt_trans)
    return body


def trade_body(conversion: Conversion, *, query: bool) -> dict[str, Any]:
    """The answer to alipay.trade.pay (code 10000: paid) or alipay.trade.query of a conversion."""
    body: dict[str, Any] = {
        "code": "10000",
        "msg": "Success",
        "trade_no": conversion.trade_no,
        "out_trade_no": conversion.out_trade_no,
        "buyer_logon_id": conversion.order.payer_logon_id,
        "buyer_user_id": conversion.order.payer_user_id,
        "total_amount": fen_to_yuan(conversion.amount_fen),
        "receipt_amount": fen_to_yuan(conversion.amount_fen),
        "buyer_pay_amount": fen_to_yuan(conversion.amount_fen),
    }
    if query:
        body.update(trade_status="TRADE_SUCCESS", send_pay_date=beijing(conversion.paid_at))
    else:
        body["gmt_payment"] = beijing(conversion.paid_at)
    return body


def ledger_rows(order: FreezeOrder, conversions: list[Conversion], requests: dict[str, int]) -> list[dict[str, Any]]:
    """One row per operation number: freezes and unfreezes by out_request_no, payments by out_trade_no."""
    summary = order.summary()

    def row(number: str, kind: str, amount: int, status: str, executions: int, **extra: Any) -> dict[str, Any]:
        return {
            "refund_no": number,
            "operation": kind,
            "amount_fen": amount,
            "status": status,
            "executed": status in (SUCCESS, "TRADE_SUCCESS"),
            "executions": executions,
            "requests": requests.get(number, 0),
            **extra,
            **summary,
        }

    rows = [
        row(op.out_request_no, op.kind, op.amount_fen, op.status, op.executions)
        for op in order.operations
        if op.kind != PAID
    ]
    rows += [
        row(
            c.out_trade_no,
            PAID,
            c.amount_fen,
            "TRADE_SUCCESS",
            c.executions,
            trade_no=c.trade_no,
            auth_confirm_mode=c.confirm_mode,
        )
        for c in conversions
    ]
    return rows
