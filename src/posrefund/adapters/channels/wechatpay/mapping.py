"""WeChat Pay's answers in the domain's words: the Refund object's ``status`` and the error ``code`` of a 4xx/5xx
become an ``Outcome`` with a ``ChannelAnswer``.

Outcome mapping (the contract: never raise for channel trouble):
  200 SUCCESS → SUCCEEDED, PROCESSING → ACCEPTED, CLOSED → CLOSED, ABNORMAL → ABNORMAL;
  query 404 RESOURCE_NOT_EXISTS → NOT_FOUND (safe to submit with the same number);
  submit 4xx business errors (NOT_ENOUGH, INVALID_REQUEST, PARAM_ERROR, USER_ACCOUNT_ABNORMAL…) → DECLINED;
  timeouts, dropped connections, unverifiable answers, 5xx, SYSTEM_ERROR, FREQUENCY_LIMITED → UNKNOWN;
  refused connections and unresolvable names (the request never left) → NOT_SENT (client.py).
A query never answers DECLINED: a refused *query* says nothing about the refund.
Every Refund object and notification states its facts (``domain.channel_facts``: refund number, amounts, order,
sub-merchant) and the kind of account the money goes back to (``RECEIVING_ACCOUNT``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from posrefund.domain.calendar import BALANCE, BANK_CARD, MERCHANT_ACCOUNT
from posrefund.domain.channel import ASK_AGAIN_SOON, RECEIVING_ACCOUNT, REFUNDED_FEN, ChannelAnswer, Outcome
from posrefund.domain.channel_facts import STATED_ORDER_NO, STATED_REFUND_NO, STATED_SUB_MERCHANT, STATED_TOTAL_FEN

REFUND_STATUS = {
    "SUCCESS": Outcome.SUCCEEDED,
    "PROCESSING": Outcome.ACCEPTED,
    "CLOSED": Outcome.CLOSED,
    "ABNORMAL": Outcome.ABNORMAL,
}
EVENT_STATUS = {"REFUND.SUCCESS": "SUCCESS", "REFUND.ABNORMAL": "ABNORMAL", "REFUND.CLOSED": "CLOSED"}
# Error codes that say "not now", not "no": the refund may or may not exist; query, or retry the same number.
_TRANSIENT = frozenset({"SYSTEM_ERROR", "FREQUENCY_LIMITED", "BANK_ERROR", "REQUEST_BLOCKED"})
# Of those, the ones WeChat says to follow with the same request at once ("请使用相同参数再次调用"); the
# others ask the caller to slow down.
_AGAIN_AT_ONCE = frozenset({"SYSTEM_ERROR", "BANK_ERROR"})
SOON = {ASK_AGAIN_SOON: "yes"}


def unknown(code: str, message: str) -> ChannelAnswer:
    """An answer that told nothing; followed at once unless WeChat asked us to slow down."""
    slow_down = code not in _AGAIN_AT_ONCE and (code in _TRANSIENT or code == "HTTP_429")
    return ChannelAnswer(Outcome.UNKNOWN, code=code, message=message, details={} if slow_down else dict(SOON))


def refund_outcome(status: int, data: Any, refund_no: str) -> ChannelAnswer:
    """The answer to ``POST /v3/refund/domestic/refunds``: a business refusal (4xx) is DECLINED."""
    if 200 <= status < 300:
        return _from_refund_object(data, refund_no)
    code, message = _error_of(status, data)
    if 400 <= status < 500 and status != 429 and code not in _TRANSIENT:
        return ChannelAnswer(Outcome.DECLINED, code=code, message=message)
    return unknown(code, message)


def query_outcome(status: int, data: Any, refund_no: str) -> ChannelAnswer:
    """The answer to ``GET /v3/refund/domestic/refunds/{out_refund_no}``: never DECLINED."""
    if 200 <= status < 300:
        return _from_refund_object(data, refund_no)
    code, message = _error_of(status, data)
    if status == 404 and code == "RESOURCE_NOT_EXISTS":
        return ChannelAnswer(Outcome.NOT_FOUND, code=code, message=message)
    return unknown(code, message)


def _error_of(status: int, data: Any) -> tuple[str, str]:
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        return data["code"], str(data.get("message", ""))
    return f"HTTP_{status}", "no JSON error body"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at.astimezone(UTC) if at.tzinfo else None


def receiving_account(obj: dict[str, Any]) -> str:
    """The kind of account the refund goes back to, from ``channel`` (BALANCE / OTHER_BALANCE: 零钱;
    OTHER_BANKCARD: another bank card) or, for ORIGINAL, ``user_received_account`` ("支付用户零钱",
    "招商银行信用卡0403", "商户基本账户"); "" when neither says."""
    channel, account = str(obj.get("channel") or ""), str(obj.get("user_received_account") or "")
    if channel in ("BALANCE", "OTHER_BALANCE") or "零钱" in account:
        return BALANCE
    if channel == "OTHER_BANKCARD" or "银行" in account or "卡" in account:
        return BANK_CARD
    if "商户" in account:
        return MERCHANT_ACCOUNT
    return ""


def _stated_facts(obj: dict[str, Any]) -> dict[str, str]:
    """The facts a Refund object or notification states about the refund, for ``channel_facts``."""
    facts = {
        key: str(obj[field])
        for key, field in (
            (STATED_REFUND_NO, "out_refund_no"),
            (STATED_ORDER_NO, "out_trade_no"),
            (STATED_SUB_MERCHANT, "sub_mchid"),
        )
        if field in obj
    }
    amount = obj.get("amount")
    if isinstance(amount, dict):
        for key, field in ((REFUNDED_FEN, "refund"), (STATED_TOTAL_FEN, "total")):
            if field in amount:
                facts[key] = str(amount[field])
    return facts


def refund_answer(obj: dict[str, Any], status: str, refund_id: str) -> ChannelAnswer:
    outcome = REFUND_STATUS.get(status, Outcome.UNKNOWN)
    details = {
        key: str(obj[key])
        for key in ("out_trade_no", "transaction_id", "user_received_account", "channel", "funds_account")
        if obj.get(key)
    }
    details["status"] = status
    details |= _stated_facts(obj)
    if kind := receiving_account(obj):
        details[RECEIVING_ACCOUNT] = kind
    succeeded_at = _parse_time(obj.get("success_time")) if outcome is Outcome.SUCCEEDED else None
    return ChannelAnswer(outcome, channel_refund_id=refund_id, code=status, succeeded_at=succeeded_at, details=details)


def _from_refund_object(data: Any, refund_no: str) -> ChannelAnswer:
    """A 200 Refund object; one that is not about our number cannot be trusted to say anything."""
    if not isinstance(data, dict) or data.get("out_refund_no") != refund_no or not isinstance(data.get("status"), str):
        return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="answer is not this refund")
    return refund_answer(data, data["status"], str(data.get("refund_id", "")))
