"""Alipay's answers in the domain's words: ``code`` / ``sub_code`` / ``fund_change`` / ``refund_status`` and the
notification fields become an ``Outcome`` with a ``ChannelAnswer``; amounts between fen and yuan strings.

Outcome mapping (the contract: never raise for channel trouble):
  refund code 10000 + fund_change=Y → SUCCEEDED; fund_change=N → UNKNOWN with code FUND_CHANGE_N (taken, or a
  repeat of a number already refunded — the same refund again, never a new one: no money moved in this call, and
  Alipay may still answer a later query without refund_status, "not received or failed", which is no lost refund:
  the same number is sent again); 40004 ACQ.SYSTEM_ERROR / ACQ.REFUND_CHARGE_ERROR, 20000, timeouts, dropped
  connections, HTTP errors, unsigned or unverifiable answers → UNKNOWN (retry the same out_request_no and
  amount, or query);
  other 40004 sub_codes and 40001/40002/40003/40006 (request refused before anything happened) → DECLINED.
  query refund_status=REFUND_SUCCESS → SUCCEEDED; refund_status absent ("not received, or failed") or
  ACQ.TRADE_NOT_EXIST → NOT_FOUND (safe to submit again with the same number); anything else → UNKNOWN.
A query never answers DECLINED: a refused *query* says nothing about the refund.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from posrefund.domain.channel import (
    ASK_AGAIN_SOON,
    QUERY_NOW,
    REFUNDED_FEN,
    TRADE_REFUNDED_FEN,
    ChannelAnswer,
    Outcome,
    RefundOrder,
)

# China has no daylight saving time: +08:00 is exactly Asia/Shanghai, the zone of every Alipay timestamp.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DEPOSIT_BACK = "alipay.trade.refund.depositback.completed"
# Business errors that say "not now", not "no": the refund may or may not have happened; query, or retry.
_TRANSIENT = frozenset({"ACQ.SYSTEM_ERROR", "ACQ.REFUND_CHARGE_ERROR"})
# Common-parameter errors: the gateway refused the request before any business ran (a key or app-id problem).
_REFUSED = frozenset({"40001", "40002", "40003", "40006"})


def told_nothing(code: str, message: str) -> ChannelAnswer:
    """A system error, an HTTP error or a lost answer: "retry with the same out_request_no and amount, or
    query after 5 s" — followed soon (``ASK_AGAIN_SOON``), not after the first-query delay."""
    return ChannelAnswer(Outcome.UNKNOWN, code=code, message=message, details={ASK_AGAIN_SOON: "yes"})


_YUAN = re.compile(r"(\d{1,11})(?:\.(\d{1,2}))?")


def fen_to_yuan(fen: int) -> str:
    """``12345`` → ``"123.45"``: Alipay's price format, made with integer arithmetic (never a float)."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError(f"not an amount in fen: {fen!r}")
    whole, cents = divmod(fen, 100)
    return f"{whole}.{cents:02d}"


def yuan_to_fen(text: object) -> int | None:
    """``"123.45"`` → ``12345``; None unless it is a plain non-negative decimal with at most two decimals."""
    m = _YUAN.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        return None
    return int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def beijing_time(text: object) -> datetime | None:
    """``"yyyy-MM-dd HH:mm:ss[.SSS]"`` in Beijing time → aware UTC; None if absent or malformed."""
    if not isinstance(text, str):
        return None
    for fmt in (TIME_FORMAT, TIME_FORMAT + ".%f"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=BEIJING).astimezone(UTC)
        except ValueError:
            continue
    return None


def _codes(data: dict[str, Any]) -> tuple[str, str, str]:
    """(code, sub_code, sub_msg) of a response object, as text."""
    return str(data.get("code", "")), str(data.get("sub_code", "")), str(data.get("sub_msg", ""))


def refund_outcome(data: dict[str, Any], signed: bool, order: RefundOrder) -> ChannelAnswer:
    """The answer to ``alipay.trade.refund``; ``signed``: Alipay's signature over it was present and verified."""
    code, sub_code, sub_msg = _codes(data)
    if code in _REFUSED:
        return ChannelAnswer(Outcome.DECLINED, code=sub_code or code, message=sub_msg, details={"code": code})
    if not signed:
        return _unverified(code, sub_code)
    if code == "10000":
        return _refund_taken(data, order)
    if code == "40004" and sub_code not in _TRANSIENT:
        return ChannelAnswer(Outcome.DECLINED, code=sub_code or code, message=sub_msg, details={"code": code})
    return told_nothing(sub_code or code or "BAD_RESPONSE", sub_msg)


def query_outcome(data: dict[str, Any], signed: bool, order: RefundOrder) -> ChannelAnswer:
    """The answer to ``alipay.trade.fastpay.refund.query``: never DECLINED."""
    code, sub_code, sub_msg = _codes(data)
    if not signed:
        if code in _REFUSED:  # our request was refused (key, app id): the refund's fate is still unknown
            return ChannelAnswer(Outcome.UNKNOWN, code=sub_code or code, message=sub_msg)
        return _unverified(code, sub_code)
    if code == "40004" and sub_code == "ACQ.TRADE_NOT_EXIST":
        return ChannelAnswer(Outcome.NOT_FOUND, code=sub_code, message=sub_msg)
    if code != "10000":
        return ChannelAnswer(Outcome.UNKNOWN, code=sub_code or code or "BAD_RESPONSE", message=sub_msg)
    return _query_found(data, order)


def _unverified(code: str, sub_code: str) -> ChannelAnswer:
    """An unsigned answer that claims more than "refused before anything ran" cannot be believed."""
    return ChannelAnswer(Outcome.UNKNOWN, code="RESPONSE_NOT_SIGNED", message=f"unsigned answer {code} {sub_code}")


def details_of(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
    return {key: str(data[key]) for key in keys if data.get(key) not in (None, "")}


def _refund_taken(data: dict[str, Any], order: RefundOrder) -> ChannelAnswer:
    """Code 10000 only says the request was taken; ``fund_change=Y`` says money moved in this call."""
    if data.get("out_trade_no") not in (None, "", order.sale.order_no):
        return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="answer is about another trade")
    details = details_of(
        data, ("trade_no", "out_trade_no", "fund_change", "refund_fee", "send_back_fee", "gmt_refund_pay")
    )
    trade_no = str(data.get("trade_no", ""))
    if data.get("fund_change") == "Y":
        succeeded_at = beijing_time(data.get("gmt_refund_pay"))
        return ChannelAnswer(
            Outcome.SUCCEEDED, channel_refund_id=trade_no, code="10000", succeeded_at=succeeded_at, details=details
        )
    # Not ACCEPTED: an acknowledged refund that a query later cannot find would be "lost" (a person's case), but
    # Alipay documents that very answer as "not received or failed, send the same number again".
    return ChannelAnswer(
        Outcome.UNKNOWN,
        channel_refund_id=trade_no,
        code="FUND_CHANGE_N",
        message="fund_change=N: taken or repeated, no money moved in this call; query for the result",
        details=details,
    )


def _query_found(data: dict[str, Any], order: RefundOrder) -> ChannelAnswer:
    if data.get("out_request_no") not in (None, "", order.refund_no):
        return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="answer is about another refund")
    details = details_of(
        data, ("trade_no", "out_trade_no", "out_request_no", "refund_status", "refund_amount", "gmt_refund_pay")
    )
    trade_no = str(data.get("trade_no", ""))
    status = data.get("refund_status")
    if not status:
        # "未返回该字段表示退款请求未收到或者退款失败": submitting the same number and amount again is safe.
        return ChannelAnswer(
            Outcome.NOT_FOUND, channel_refund_id=trade_no, message="no refund_status: not received or not done"
        )
    if status != "REFUND_SUCCESS":
        return ChannelAnswer(Outcome.UNKNOWN, channel_refund_id=trade_no, code=str(status), details=details)
    refunded = yuan_to_fen(data.get("refund_amount"))
    if refunded is None:
        return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="REFUND_SUCCESS without a refund_amount")
    # The case compares it with its own amount: a success for another amount goes to a person.
    details[REFUNDED_FEN] = str(refunded)
    return ChannelAnswer(
        Outcome.SUCCEEDED,
        channel_refund_id=trade_no,
        code="REFUND_SUCCESS",
        succeeded_at=beijing_time(data.get("gmt_refund_pay")),
        details=details,
    )


def trade_notice_answer(params: dict[str, str], trade_no: str, status: str) -> ChannelAnswer | None:
    """A trade notification after a refund: a refund of the trade went through. Its ``refund_fee`` is what the
    trade has had refunded in all (Alipay's words: 总退款金额), not this refund's amount — a second partial refund
    shows both — so it settles nothing by itself: it is stated as the trade's total (a total below this
    refund's amount goes to a person) and the worker asks at once (``QUERY_NOW``), whose answer names this
    refund's ``refund_amount``. None: the amounts are unreadable or the refunds exceed the trade."""
    refunded, total = yuan_to_fen(params.get("refund_fee")), yuan_to_fen(params.get("total_amount"))
    if refunded is None or refunded <= 0 or (total is not None and refunded > total):
        return None
    details = details_of(
        params, ("out_trade_no", "trade_status", "refund_fee", "gmt_refund", "notify_type", "notify_time")
    )
    details[TRADE_REFUNDED_FEN] = str(refunded)
    details[QUERY_NOW] = "yes"
    return ChannelAnswer(Outcome.UNKNOWN, channel_refund_id=trade_no, code=status, details=details)


def deposit_back_answer(biz: dict[str, Any], dback: str) -> ChannelAnswer:
    """A bank-card deposit-back message: S reached the card, F credited the Alipay balance, P still on its way."""
    details = details_of(biz, ("out_trade_no", "dback_status", "dback_amount", "bank_ack_time"))
    details["msg_method"] = DEPOSIT_BACK
    return ChannelAnswer(
        Outcome.ACCEPTED if dback == "P" else Outcome.SUCCEEDED,
        channel_refund_id=str(biz.get("trade_no", "")),
        code=f"DBACK_{dback}",
        details=details,
    )
