"""WeChat Pay's answers in the domain's words: the Refund object's ``status`` and the error ``code`` of a 4xx/5xx
become an ``Outcome`` with a ``ChannelAnswer``.

Outcome mapping (the contract: never raise for channel trouble):
  200 SUCCESS → SUCCEEDED, PROCESSING → ACCEPTED, CLOSED → CLOSED, ABNORMAL → ABNORMAL;
  query 404 RESOURCE_NOT_EXISTS → NOT_FOUND (safe to submit with the same number);
  submit 4xx business errors (NOT_ENOUGH, INVALID_REQUEST, PARAM_ERROR, USER_ACCOUNT_ABNORMAL…) → DECLINED;
  timeouts, connection errors, unverifiable answers, 5xx, SYSTEM_ERROR, FREQUENCY_LIMITED → UNKNOWN.
A query never answers DECLINED: a refused *query* says nothing about the refund.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from posrefund.domain.channel import REFUNDED_FEN, ChannelAnswer, Outcome

REFUND_STATUS = {
    "SUCCESS": Outcome.SUCCEEDED,
    "PROCESSING": Outcome.ACCEPTED,
    "CLOSED": Outcome.CLOSED,
    "ABNORMAL": Outcome.ABNORMAL,
}
EVENT_STATUS = {"REFUND.SUCCESS": "SUCCESS", "REFUND.ABNORMAL": "ABNORMAL", "REFUND.CLOSED": "CLOSED"}
# Error codes that say "not now", not "no": the refund may or may not exist; query, or retry the same number.
_TRANSIENT = frozenset({"SYSTEM_ERROR", "FREQUENCY_LIMITED", "BANK_ERROR", "REQUEST_BLOCKED"})


def refund_outcome(status: int, data: Any, refund_no: str) -> ChannelAnswer:
    """The answer to ``POST /v3/refund/domestic/refunds``: a business refusal (4xx) is DECLINED."""
    if 200 <= status < 300:
        return _from_refund_object(data, refund_no)
    code, message = _error_of(status, data)
    if status >= 500 or status == 429 or code in _TRANSIENT:
        return ChannelAnswer(Outcome.UNKNOWN, code=code, message=message)
    if 400 <= status < 500:
        return ChannelAnswer(Outcome.DECLINED, code=code, message=message)
    return ChannelAnswer(Outcome.UNKNOWN, code=code, message=message)


def query_outcome(status: int, data: Any, refund_no: str) -> ChannelAnswer:
    """The answer to ``GET /v3/refund/domestic/refunds/{out_refund_no}``: never DECLINED."""
    if 200 <= status < 300:
        return _from_refund_object(data, refund_no)
    code, message = _error_of(status, data)
    if status == 404 and code == "RESOURCE_NOT_EXISTS":
        return ChannelAnswer(Outcome.NOT_FOUND, code=code, message=message)
    return ChannelAnswer(Outcome.UNKNOWN, code=code, message=message)


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


def refund_answer(obj: dict[str, Any], status: str, refund_id: str) -> ChannelAnswer:
    outcome = REFUND_STATUS.get(status, Outcome.UNKNOWN)
    details = {
        key: str(obj[key])
        for key in ("out_trade_no", "transaction_id", "user_received_account", "channel", "funds_account")
        if obj.get(key)
    }
    details["status"] = status
    amount = obj.get("amount")
    if isinstance(amount, dict) and isinstance(amount.get("refund"), int):
        details[REFUNDED_FEN] = str(amount["refund"])
    succeeded_at = _parse_time(obj.get("success_time")) if outcome is Outcome.SUCCEEDED else None
    return ChannelAnswer(outcome, channel_refund_id=refund_id, code=status, succeeded_at=succeeded_at, details=details)


def _from_refund_object(data: Any, refund_no: str) -> ChannelAnswer:
    """A 200 Refund object; one that is not about our number cannot be trusted to say anything."""
    if not isinstance(data, dict) or data.get("out_refund_no") != refund_no or not isinstance(data.get("status"), str):
        return ChannelAnswer(Outcome.UNKNOWN, code="BAD_RESPONSE", message="answer is not this refund")
    return refund_answer(data, data["status"], str(data.get("refund_id", "")))
