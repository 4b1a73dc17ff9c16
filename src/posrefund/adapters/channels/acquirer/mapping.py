"""The acquirer's ISO 8583 answers in the domain's words: response codes (field 39) and stored query results
(field 62) become an ``Outcome`` with a ``ChannelAnswer``.

00 → SUCCEEDED; 91/96/98/68 and no answer → UNKNOWN (resolve by ``query``); any other code → DECLINED with the
code. A void refused with 12/64 carries ``hint=use_refund``: the sale is out of void range. A query answered 25,
or finding a reversed entry, is NOT_FOUND (submit again with the same refund_no); an executed entry for another
amount or sale is ABNORMAL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from posrefund.domain.channel import ChannelAnswer, Method, Outcome, RefundOrder

SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
APPROVED: Final = "00"
NOT_LOCATED: Final = "25"
UNKNOWN_CODES: Final = frozenset({"91", "96", "98", "68"})  # switch/issuer/system trouble: the effect is unknown
REVERSAL_ACKS: Final = frozenset({"00", "25"})  # undone, or nothing there to undo
CODE_TEXT: Final = {
    "00": "approved",
    "05": "do not honour",
    "12": "invalid transaction",
    "13": "invalid amount",
    "25": "unable to locate the original",
    "30": "format error",
    "40": "function not supported",
    "58": "not permitted to the terminal (refund window passed)",
    "61": "exceeds the amount limit (cumulative refunds above the original)",
    "64": "original amount incorrect",
    "65": "exceeds the refund count limit",
    "68": "answer received too late",
    "91": "issuer or switch inoperative",
    "94": "duplicate transmission (same refund_no, different content)",
    "96": "system malfunction",
    "98": "no answer from the issuer",
    "A0": "MAC check failed",
}
VOID_REFUSED_CODES: Final = frozenset({"12", "64"})  # the sale is out of void range: refund it instead
TRANSACTION_TYPE: Final = {Method.VOID: "23", Method.REFUND: "25"}


def submit_answer(order: RefundOrder, doc: dict[str, str], base: dict[str, str], now: datetime) -> ChannelAnswer:
    """The answer to a void or refund: approved, unknown (resolve by query) or declined with its code."""
    code = doc.get("39", "")
    if code == APPROVED:
        return succeeded(doc, base | {"auth_code": doc.get("38", "")}, now)
    text = CODE_TEXT.get(code, "refused")
    if code in UNKNOWN_CODES:
        return ChannelAnswer(Outcome.UNKNOWN, code=code, message=text, details=base)
    details = dict(base)
    if order.method is Method.VOID and code in VOID_REFUSED_CODES:
        details["hint"] = "use_refund"
        text += ": the sale is out of void range, refund it instead"
    return ChannelAnswer(Outcome.DECLINED, code=code, message=text, details=details)


def query_answer(order: RefundOrder, doc: dict[str, str], now: datetime) -> ChannelAnswer:
    """The answer to a status query: field 62 says what the host holds under the refund_no."""
    code = doc.get("39", "")
    if code == NOT_LOCATED:
        return ChannelAnswer(Outcome.NOT_FOUND, code=code, message=CODE_TEXT[code])
    if code != APPROVED:
        return ChannelAnswer(Outcome.UNKNOWN, code=code, message=CODE_TEXT.get(code, "query failed"))
    stored = dict(part.partition("=")[::2] for part in doc.get("62", "").split(";") if part)
    details = {k.lower(): v for k, v in stored.items()}
    state = stored.get("STATE", "")
    if state == "REVERSED":
        message = "reversed: nothing moved; submit again with the same refund_no"
        return ChannelAnswer(Outcome.NOT_FOUND, code=code, message=message, details=details)
    if state != "EXECUTED":
        return ChannelAnswer(Outcome.UNKNOWN, code=code, message=f"unexpected state {state!r}", details=details)
    amount = int(doc.get("4", "0") or 0)
    if amount != order.amount_fen or stored.get("ORIG_RRN") != order.sale.rrn:
        return ChannelAnswer(
            Outcome.ABNORMAL,
            channel_refund_id=doc.get("37", ""),
            code=code,
            message="the acquirer executed this refund_no for another amount or sale",
            details=details,
        )
    return succeeded(doc, details | {"auth_code": doc.get("38", "")}, now)


def unanswered(base: dict[str, str], reason: str, ack_code: str, tries: int, last_error: str) -> ChannelAnswer:
    """A void or refund without a valid answer: UNKNOWN, with what the reversal (冲正) achieved."""
    acknowledged = bool(ack_code)
    details = base | {
        "sent": "true",
        "reason": reason,
        "reversal_sent": "true",
        "reversal_acknowledged": str(acknowledged).lower(),
        "reversal_tries": str(tries),
        "reversal_code": ack_code,
    }
    if not acknowledged:
        details["reversal_error"] = last_error
    message = "no answer; reversal " + ("acknowledged" if acknowledged else "NOT acknowledged")
    return ChannelAnswer(Outcome.UNKNOWN, message=message, details=details)


def succeeded(doc: dict[str, str], details: dict[str, str], now: datetime) -> ChannelAnswer:
    return ChannelAnswer(
        Outcome.SUCCEEDED,
        channel_refund_id=doc.get("37", ""),
        code=APPROVED,
        message=CODE_TEXT[APPROVED],
        succeeded_at=host_time(doc.get("13", ""), doc.get("12", ""), now),
        details=details,
    )


def host_time(mmdd: str, hhmmss: str, now: datetime) -> datetime | None:
    """The host's local MMDD + hhmmss as UTC; the year is the one that puts it nearest to ``now``."""
    try:
        month, day = int(mmdd[:2]), int(mmdd[2:4])
        hour, minute, second = int(hhmmss[:2]), int(hhmmss[2:4]), int(hhmmss[4:6])
    except ValueError:
        return None
    candidates = []
    for year in (now.year - 1, now.year, now.year + 1):
        try:
            candidates.append(datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI))
        except ValueError:
            continue  # 29 February in a common year
    if not candidates:
        return None
    return min(candidates, key=lambda at: abs(at - now)).astimezone(UTC)
