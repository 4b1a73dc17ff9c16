"""Alipay's fund-authorisation answers in the domain's words: each response object becomes a ``ChannelAnswer``
for one hold operation, with the hold's references in ``details`` (``AUTH_NO``, ``REST_FEN``, ``TRADE_NO``,
``AMOUNT_FEN``). docs/alipay-fund-auth.md has the fields, the states and their sources.

Outcome mapping (never raise; SUCCEEDED only when Alipay says the operation executed):
  freeze / unfreeze 10000 with status SUCCESS → SUCCEEDED; status INIT (the payer has not confirmed yet) →
  UNKNOWN code INIT (ask again); CLOSED → CLOSED. conversion (trade.pay) 10000 → SUCCEEDED; 10003 (waiting for
  the payer) → UNKNOWN. 40004 SYSTEM_ERROR / ACQ.SYSTEM_ERROR, 20000, unsigned or unverifiable answers, transport
  trouble → UNKNOWN (ask again with the same number, or query); ACQ.TRADE_HAS_SUCCESS (the number was paid
  already) → UNKNOWN to be settled by the trade query; other 40004 sub_codes and 40001/40002/40003/40006 →
  DECLINED with Alipay's code.
  detail query status SUCCESS → SUCCEEDED, INIT → UNKNOWN, CLOSED → CLOSED; AUTH_ORDER_NOT_EXIST /
  AUTH_OPERATION_NOT_EXIST → NOT_FOUND. trade query TRADE_SUCCESS / TRADE_FINISHED → SUCCEEDED, WAIT_BUYER_PAY →
  UNKNOWN, TRADE_CLOSED → CLOSED, ACQ.TRADE_NOT_EXIST → NOT_FOUND. A query never answers DECLINED.
"""

from __future__ import annotations

from typing import Any

from posrefund.adapters.channels.alipay.mapping import beijing_time, details_of, told_nothing, yuan_to_fen
from posrefund.domain.channel import ChannelAnswer, Outcome
from posrefund.domain.fund_hold import AUTH_NO, REST_FEN, TRADE_NO, HoldOrder

# The operation's own amount as Alipay states it (fen, as text): the caller compares it with what it asked.
AMOUNT_FEN = "amount_fen"
# Business errors that say "not now", not "no": the operation may or may not have happened.
_TRANSIENT = frozenset({"SYSTEM_ERROR", "ACQ.SYSTEM_ERROR"})
# Common-parameter errors: the gateway refused the request before any business ran (a key or app-id problem).
_REFUSED = frozenset({"40001", "40002", "40003", "40006"})
# The query's "no such freeze / no such operation": it never happened, the same number may be sent again.
_NEVER_HAPPENED = frozenset({"AUTH_ORDER_NOT_EXIST", "AUTH_OPERATION_NOT_EXIST", "ACQ.TRADE_NOT_EXIST"})
PAID_ALREADY = "ACQ.TRADE_HAS_SUCCESS"
# Yuan fields of a freeze, unfreeze or detail answer, and the detail keys their fen go under.
_OPERATION_AMOUNTS = {
    AMOUNT_FEN: "amount",
    REST_FEN: "rest_amount",
    "total_freeze_fen": "total_freeze_amount",
    "total_pay_fen": "total_pay_amount",
}
_STATUS = {"SUCCESS": Outcome.SUCCEEDED, "INIT": Outcome.UNKNOWN, "CLOSED": Outcome.CLOSED}
_TRADE_STATUS = {
    "TRADE_SUCCESS": Outcome.SUCCEEDED,
    "TRADE_FINISHED": Outcome.SUCCEEDED,
    "WAIT_BUYER_PAY": Outcome.UNKNOWN,
    "TRADE_CLOSED": Outcome.CLOSED,
}


def _codes(data: dict[str, Any]) -> tuple[str, str, str]:
    return str(data.get("code", "")), str(data.get("sub_code", "")), str(data.get("sub_msg", ""))


def _refused_or_unknown(data: dict[str, Any], signed: bool) -> ChannelAnswer | None:
    """The answer to an operation that did not succeed, or None when it is a signed 10000."""
    code, sub_code, sub_msg = _codes(data)
    if code in _REFUSED:
        return ChannelAnswer(Outcome.DECLINED, code=sub_code or code, message=sub_msg, details={"code": code})
    if not signed:
        return ChannelAnswer(Outcome.UNKNOWN, code="RESPONSE_NOT_SIGNED", message=f"unsigned answer {code} {sub_code}")
    if code == "10000":
        return None
    if code == "40004" and sub_code == PAID_ALREADY:
        return ChannelAnswer(Outcome.UNKNOWN, code=sub_code, message=sub_msg)
    if code == "40004" and sub_code not in _TRANSIENT:
        return ChannelAnswer(Outcome.DECLINED, code=sub_code or code, message=sub_msg, details={"code": code})
    return told_nothing(sub_code or code or "BAD_RESPONSE", sub_msg)


def _query_trouble(data: dict[str, Any], signed: bool) -> ChannelAnswer | None:
    """A query's answer that says nothing about the operation (UNKNOWN) or that it never happened (NOT_FOUND)."""
    code, sub_code, sub_msg = _codes(data)
    if not signed:
        return ChannelAnswer(Outcome.UNKNOWN, code=sub_code or code or "RESPONSE_NOT_SIGNED", message=sub_msg)
    if code == "40004" and sub_code in _NEVER_HAPPENED:
        return ChannelAnswer(Outcome.NOT_FOUND, code=sub_code, message=sub_msg)
    if code != "10000":
        return ChannelAnswer(Outcome.UNKNOWN, code=sub_code or code or "BAD_RESPONSE", message=sub_msg)
    return None


def _amounts(data: dict[str, Any], **fields: str) -> dict[str, str] | None:
    """Yuan fields of an answer as fen text under our keys; None if one present is malformed."""
    out: dict[str, str] = {}
    for key, name in fields.items():
        if data.get(name) in (None, ""):
            continue
        fen = yuan_to_fen(str(data[name]))
        if fen is None:
            return None
        out[key] = str(fen)
    return out


def _about_another(data: dict[str, Any], order: HoldOrder, number_field: str) -> bool:
    return data.get(number_field) not in (None, "", order.operation_no)


def operation_answer(data: dict[str, Any], signed: bool, order: HoldOrder) -> ChannelAnswer:
    """The answer to ``alipay.fund.auth.order.freeze`` or ``…unfreeze``."""
    trouble = _refused_or_unknown(data, signed)
    if trouble is not None:
        return trouble
    return _operation_state(data, order, "FREEZE_OR_UNFREEZE")


def detail_answer(data: dict[str, Any], signed: bool, order: HoldOrder) -> ChannelAnswer:
    """The answer to ``alipay.fund.auth.operation.detail.query`` about one freeze or unfreeze."""
    trouble = _query_trouble(data, signed)
    if trouble is not None:
        return trouble
    return _operation_state(data, order, "DETAIL")


def _operation_state(data: dict[str, Any], order: HoldOrder, source: str) -> ChannelAnswer:
    if _about_another(data, order, "out_request_no"):
        return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="answer is about another operation")
    amounts = _amounts(data, **_OPERATION_AMOUNTS)
    outcome = _STATUS.get(str(data.get("status", "")))
    auth_no = str(data.get("auth_no") or "")
    if amounts is None or outcome is None or not auth_no:
        return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message=f"{source}: unreadable status or amounts")
    details = details_of(data, ("operation_id", "out_order_no", "out_request_no", "status", "order_status"))
    details.update(amounts, **{AUTH_NO: auth_no})
    return ChannelAnswer(
        outcome,
        channel_refund_id=str(data.get("operation_id") or ""),
        code=str(data["status"]),
        succeeded_at=beijing_time(data.get("gmt_trans")) if outcome is Outcome.SUCCEEDED else None,
        details=details,
    )


def pay_answer(data: dict[str, Any], signed: bool, order: HoldOrder) -> ChannelAnswer:
    """The answer to ``alipay.trade.pay`` with ``auth_no``: 10000 is paid; 10003 waits for the payer."""
    trouble = _refused_or_unknown(data, signed)
    if trouble is not None:
        return trouble
    return _trade_state(data, order, "TRADE_SUCCESS")


def pay_waiting(data: dict[str, Any]) -> bool:
    return str(data.get("code", "")) == "10003"


def trade_answer(data: dict[str, Any], signed: bool, order: HoldOrder) -> ChannelAnswer:
    """The answer to ``alipay.trade.query`` about a conversion (out_trade_no = our operation number)."""
    trouble = _query_trouble(data, signed)
    if trouble is not None:
        return trouble
    return _trade_state(data, order, str(data.get("trade_status", "")))


def _trade_state(data: dict[str, Any], order: HoldOrder, status: str) -> ChannelAnswer:
    if _about_another(data, order, "out_trade_no"):
        return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="answer is about another trade")
    outcome = _TRADE_STATUS.get(status)
    amounts = _amounts(data, **{AMOUNT_FEN: "total_amount"})
    trade_no = str(data.get("trade_no") or "")
    if outcome is None or amounts is None or (outcome is Outcome.SUCCEEDED and not (trade_no and amounts)):
        return ChannelAnswer(Outcome.UNKNOWN, code=status or "BAD_RESPONSE", message="trade not paid, or unreadable")
    details = details_of(data, ("trade_no", "out_trade_no", "buyer_user_id", "gmt_payment", "send_pay_date"))
    details.update(amounts, **{AUTH_NO: order.hold.channel_hold_id})
    if trade_no:
        details[TRADE_NO] = trade_no
    paid_at = beijing_time(data.get("gmt_payment") or data.get("send_pay_date"))
    return ChannelAnswer(
        outcome,
        channel_refund_id=trade_no,
        code=status,
        succeeded_at=paid_at if outcome is Outcome.SUCCEEDED else None,
        details=details,
    )


def cancel_answer(data: dict[str, Any], signed: bool, order: HoldOrder) -> ChannelAnswer:
    """The answer to ``alipay.fund.auth.operation.cancel`` of a freeze: CLOSED (nothing stays held; ``action``
    close: nothing had been frozen, unfreeze: what had been frozen went back), or why it could not be done."""
    trouble = _refused_or_unknown(data, signed)
    if trouble is not None:
        return trouble
    action = str(data.get("action", ""))
    if _about_another(data, order, "out_request_no") or action not in ("close", "unfreeze"):
        return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="unreadable cancel answer")
    details = details_of(data, ("auth_no", "operation_id", "out_order_no", "out_request_no", "action"))
    if data.get("auth_no"):
        details[AUTH_NO] = str(data["auth_no"])
    return ChannelAnswer(Outcome.CLOSED, code=f"CANCEL_{action.upper()}", details=details)
