"""Alipay fund authorisation (资金授权, 当面 barcode freeze) as a ``FundHoldChannel``: the freeze, its release,
its conversion into a payment and their queries, signed and verified like every Alipay call (``gateway``).

  HOLD              alipay.fund.auth.order.freeze  (auth_code + auth_code_type bar_code, out_order_no = the hold's
                    number, out_request_no = the operation's, product_code PRE_AUTH)
  RELEASE           alipay.fund.auth.order.unfreeze of the order's amount (auth_no, out_request_no, amount, remark)
  COMPLETE          alipay.trade.pay with auth_no, product_code PRE_AUTH, out_trade_no = the operation's number,
                    auth_confirm_mode NOT_COMPLETE unless ``finish_on_completion`` (then COMPLETE: Alipay also
                    releases what is left and ends the freeze)
  CANCEL_COMPLETION refused here (DECLINED ``posrefund.not_an_alipay_operation``): a payment made out of a freeze
                    is an ordinary Alipay trade, undone by an ordinary refund
  query             HOLD / RELEASE: alipay.fund.auth.operation.detail.query; COMPLETE: alipay.trade.query

A freeze whose answer never came is asked for with ``query``; one still not known when the caller's rules say
"enough" is withdrawn with ``cancel_freeze`` (alipay.fund.auth.operation.cancel): the payer's money goes back if it
was frozen, and nothing is frozen later. docs/alipay-fund-auth.md has the fields, states, sources and choices.
"""

from __future__ import annotations

from typing import Any

from posrefund.adapters.channels.alipay.fund_auth_mapping import (
    PAID_ALREADY,
    cancel_answer,
    detail_answer,
    operation_answer,
    pay_answer,
    pay_waiting,
    trade_answer,
)
from posrefund.adapters.channels.alipay.gateway import REFUSED, AlipayGateway, Reply
from posrefund.adapters.channels.alipay.mapping import fen_to_yuan
from posrefund.domain.channel import ChannelAnswer, Outcome
from posrefund.domain.fund_hold import REST_FEN, HoldOrder, HoldStep

FREEZE = "alipay.fund.auth.order.freeze"
UNFREEZE = "alipay.fund.auth.order.unfreeze"
DETAIL_QUERY = "alipay.fund.auth.operation.detail.query"
CANCEL = "alipay.fund.auth.operation.cancel"
TRADE_PAY = "alipay.trade.pay"
TRADE_QUERY = "alipay.trade.query"
# 新当面资金授权's product code, for the freeze and for the payment made out of it (they must match:
# ACQ.PRE_AUTH_PROD_CODE_INCONSISTENT otherwise).
PRODUCT_CODE = "PRE_AUTH"
NOT_ALIPAY = "posrefund.not_an_alipay_operation"
INVALID = "posrefund.invalid_order"


def _declined(code: str, message: str) -> ChannelAnswer:
    return ChannelAnswer(Outcome.DECLINED, code=code, message=message)


class AlipayFundAuthChannel:
    """``FundHoldChannel`` for Alipay: the hold's ``hold_no`` travels as ``out_order_no``, its ``channel_hold_id``
    is Alipay's ``auth_no``, every operation's ``operation_no`` as ``out_request_no`` (``out_trade_no`` for a
    conversion). The same number and amount sent again is the same operation at Alipay, never a second one.

    ``finish_on_completion``: convert with auth_confirm_mode COMPLETE (the rest is released by Alipay in the same
    call) instead of NOT_COMPLETE (the rest stays frozen until a RELEASE). ``payee_user_id``: the merchant's
    2088… id named on freezes (optional). ``gateway``: the app's signed line to Alipay, the same kind the refund
    channel uses (keys, certificate mode, gateway URL, timeout).
    """

    name = "alipay"

    def __init__(self, gateway: AlipayGateway, *, finish_on_completion: bool = False, payee_user_id: str = "") -> None:
        self._gateway = gateway
        self._confirm_mode = "COMPLETE" if finish_on_completion else "NOT_COMPLETE"
        self._payee_user_id = payee_user_id

    # ---- the port ----------------------------------------------------------------------------------------

    def execute(self, order: HoldOrder) -> ChannelAnswer:
        refused = _refused_here(order)
        if refused is not None:
            return refused
        if order.step is HoldStep.HOLD:
            return self._with_rest(order, self._operation(FREEZE, self._freeze_biz(order), order))
        if order.step is HoldStep.RELEASE:
            biz = {
                "auth_no": order.hold.channel_hold_id,
                "out_request_no": order.operation_no,
                "amount": fen_to_yuan(order.amount_fen),
                "remark": (order.title or "资金解冻")[:50],
            }
            return self._with_rest(order, self._operation(UNFREEZE, biz, order))
        return self._convert(order)

    def query(self, order: HoldOrder) -> ChannelAnswer:
        """Never sends an operation: NOT_FOUND means Alipay has no such operation (send it again, same number)."""
        if order.step is HoldStep.CANCEL_COMPLETION:
            return _declined(NOT_ALIPAY, "Alipay has no cancel of a completion: refund the payment instead")
        if order.step is HoldStep.COMPLETE:
            reply = self._call(TRADE_QUERY, {"out_trade_no": order.operation_no})
            return reply if isinstance(reply, ChannelAnswer) else trade_answer(*reply, order)
        reply = self._call(DETAIL_QUERY, {**_order_ref(order), "out_request_no": order.operation_no})
        return reply if isinstance(reply, ChannelAnswer) else detail_answer(*reply, order)

    # ---- beyond the port ---------------------------------------------------------------------------------

    def cancel_freeze(self, order: HoldOrder) -> ChannelAnswer:
        """撤销 the freeze ``order`` (the HOLD order, same number) whose result is unknown: CLOSED when done
        (``CANCEL_CLOSE``: nothing had been frozen; ``CANCEL_UNFREEZE``: what was frozen went back), UNKNOWN to
        be asked again, DECLINED when Alipay will not (query the freeze: it may have been used)."""
        if order.step is not HoldStep.HOLD:
            return _declined(INVALID, "only a freeze can be cancelled")
        biz = {"out_order_no": order.hold.hold_no, "out_request_no": order.operation_no, "remark": "结果未知撤销"}
        reply = self._call(CANCEL, biz)
        return reply if isinstance(reply, ChannelAnswer) else cancel_answer(*reply, order)

    # ---- inside ------------------------------------------------------------------------------------------

    def _freeze_biz(self, order: HoldOrder) -> dict[str, Any]:
        biz = {
            "out_order_no": order.hold.hold_no,
            "out_request_no": order.operation_no,
            "order_title": (order.title or "押金")[:100],
            "amount": fen_to_yuan(order.amount_fen),
            "product_code": PRODUCT_CODE,
            "auth_code": order.payer_code,
            "auth_code_type": "bar_code",
        }
        if self._payee_user_id:
            biz["payee_user_id"] = self._payee_user_id
        return biz

    def _convert(self, order: HoldOrder) -> ChannelAnswer:
        """A payment out of the freeze. Alipay answers a number already paid with ACQ.TRADE_HAS_SUCCESS, not with
        the payment: the trade query then says what it became."""
        biz = {
            "out_trade_no": order.operation_no,
            "total_amount": fen_to_yuan(order.amount_fen),
            "subject": (order.title or "预授权转支付")[:256],
            "product_code": PRODUCT_CODE,
            "auth_no": order.hold.channel_hold_id,
            "auth_confirm_mode": self._confirm_mode,
        }
        reply = self._call(TRADE_PAY, biz)
        if isinstance(reply, ChannelAnswer):
            return reply
        if pay_waiting(reply[0]) and reply[1]:
            return self.query(order)
        answer = pay_answer(*reply, order)
        if answer.code == PAID_ALREADY:
            return self.query(order)
        return answer

    def _operation(self, method: str, biz: dict[str, Any], order: HoldOrder) -> ChannelAnswer:
        reply = self._call(method, biz)
        return reply if isinstance(reply, ChannelAnswer) else operation_answer(*reply, order)

    def _with_rest(self, order: HoldOrder, answer: ChannelAnswer) -> ChannelAnswer:
        """The freeze and unfreeze answers do not state what stays frozen; the operation's detail query does.
        Asked once after a success; when it cannot tell, the answer goes without ``REST_FEN``."""
        if answer.outcome is not Outcome.SUCCEEDED or REST_FEN in answer.details:
            return answer
        detail = self.query(order)
        if detail.outcome is not Outcome.SUCCEEDED or REST_FEN not in detail.details:
            return answer
        return ChannelAnswer(
            answer.outcome,
            channel_refund_id=answer.channel_refund_id,
            code=answer.code,
            message=answer.message,
            succeeded_at=answer.succeeded_at,
            details={**detail.details, **answer.details, REST_FEN: detail.details[REST_FEN]},
        )

    def _call(self, method: str, biz: dict[str, Any]) -> Reply | ChannelAnswer:
        """The gateway's call, with a refused connection as NOT_SENT: nothing left this host."""
        reply = self._gateway.call(method, biz)
        if isinstance(reply, ChannelAnswer) and reply.code == "CONNECTION_ERROR" and reply.message == REFUSED:
            return ChannelAnswer(Outcome.NOT_SENT, code=reply.code, message=reply.message)
        return reply


def _order_ref(order: HoldOrder) -> dict[str, str]:
    """The freeze an operation belongs to: Alipay's auth_no once known ("auth_no wins"), else our out_order_no."""
    if order.hold.channel_hold_id:
        return {"auth_no": order.hold.channel_hold_id}
    return {"out_order_no": order.hold.hold_no}


def _refused_here(order: HoldOrder) -> ChannelAnswer | None:
    """What is refused before anything is sent (DECLINED, nothing can have happened at Alipay)."""
    if order.step is HoldStep.CANCEL_COMPLETION:
        return _declined(NOT_ALIPAY, "Alipay has no cancel of a completion: refund the payment instead")
    if order.currency != "CNY" or order.amount_fen <= 0:
        return _declined(INVALID, "Alipay fund authorisation takes a positive CNY amount")
    if order.step is HoldStep.HOLD and not order.payer_code:
        return _declined(INVALID, "a freeze needs the payment code the payer showed")
    if order.step is not HoldStep.HOLD and not order.hold.channel_hold_id:
        return _declined(INVALID, "the hold has no Alipay auth_no yet: query its freeze first")
    return None
