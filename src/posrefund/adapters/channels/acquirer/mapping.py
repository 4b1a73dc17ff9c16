"""The terminal journal in the domain's words: what a stored answer (field 39) or the lack of one means for a
refund, as an ``Outcome`` with a ``ChannelAnswer``.

00 → SUCCEEDED. 91/96/98/68 → UNKNOWN (the host itself does not know). A0 (our MAC failed at the host) or a demand
to sign on again → nothing was done: NOT_FOUND once the terminal has signed on again, so the same refund_no is sent
again as a new message. Any other code → DECLINED with it; a void refused with 12/25/64 (already settled, not in
this batch, not voidable) carries ``hint=use_refund``. A message still open (no valid answer, resends or reversals
left) → UNKNOWN; resends or reversals used up → UNRESOLVED: no status query exists on this network, the settlement
file or a person settles it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from posrefund.domain.channel import REFUNDED_FEN, ChannelAnswer, Outcome
from posrefund.ports.terminal import JournalEntry

SHANGHAI: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
APPROVED: Final = "00"
UNKNOWN_CODES: Final = frozenset({"91", "96", "98", "68"})  # switch/issuer/system trouble: the effect is unknown
REVERSAL_ACKS: Final = frozenset({"00", "25"})  # undone, or nothing there to undo
SIGN_ON_CODES: Final = frozenset({"A0"})  # the host could not check our MAC: keys differ, sign on again
# Journal kinds sent as notifications (退货 0220, 预授权完成通知 0220): never reversed; a lost answer is met by
# resending the same message (same trace), which the host answers with its first answer.
NOTIFICATIONS: Final = frozenset({"refund", "notice"})
VOID_REFUSED_CODES: Final = frozenset({"12", "25", "64"})  # out of void range (settled, other batch): refund it
CODE_TEXT: Final = {
    "00": "approved",
    "05": "do not honour",
    "12": "invalid transaction",
    "13": "invalid amount",
    "25": "unable to locate the original",
    "30": "format error",
    "40": "function not supported",
    "58": "not permitted to the terminal",
    "61": "exceeds the amount limit",
    "64": "original amount incorrect",
    "65": "exceeds the count limit",
    "68": "answer received too late",
    "91": "issuer or switch inoperative",
    "94": "duplicate transmission",
    "96": "system malfunction",
    "98": "no answer from the issuer",
    "A0": "MAC check failed",
}


def base(entry: JournalEntry) -> dict[str, str]:
    return {
        "method": entry.kind,
        "terminal_no": entry.terminal_id.strip(),
        "batch_no": entry.batch_no,
        "stan": entry.trace_no,
        "sends": str(entry.sends),
        "reversal_tries": str(entry.reversal_tries),
    }


def answered(entry: JournalEntry, now: datetime) -> ChannelAnswer:
    """What the host's stored answer to ``entry`` means."""
    code = entry.response_code
    text = CODE_TEXT.get(code, "refused")
    details = base(entry)
    if code == APPROVED:
        return ChannelAnswer(
            Outcome.SUCCEEDED,
            channel_refund_id=entry.rrn,
            code=code,
            message=text,
            succeeded_at=host_time(entry.host_time, now),
            details=details | {"auth_code": entry.auth_code, REFUNDED_FEN: str(entry.amount_fen)},
        )
    if code in UNKNOWN_CODES:
        return ChannelAnswer(Outcome.UNKNOWN, code=code, message=text, details=details)
    if entry.kind == "void" and code in VOID_REFUSED_CODES:
        details["hint"] = "use_refund"
        text += ": the sale is out of void range, refund it instead"
    return ChannelAnswer(Outcome.DECLINED, code=code, message=text, details=details)


def nothing_done(entry: JournalEntry | None, why: str) -> ChannelAnswer:
    """Nothing moved for this refund_no (never sent, reversed, refused for keys): send it again, same number."""
    return ChannelAnswer(Outcome.NOT_FOUND, message=why, details=base(entry) if entry else {})


def still_open(entry: JournalEntry, why: str) -> ChannelAnswer:
    """No valid answer yet, resends or reversals left: ``query`` goes on with them."""
    return ChannelAnswer(Outcome.UNKNOWN, message=why, details=base(entry) | {"state": entry.state})


def unresolved(entry: JournalEntry, why: str) -> ChannelAnswer:
    message = f"{why}; no more resends or reversals are allowed: the acquirer's settlement file decides"
    return ChannelAnswer(Outcome.UNRESOLVED, message=message, details=base(entry) | {"state": entry.state})


def host_time(mmddhhmmss: str, now: datetime) -> datetime | None:
    """The host's local MMDD + hhmmss as UTC; the year is the one that puts it nearest to ``now``."""
    try:
        month, day = int(mmddhhmmss[:2]), int(mmddhhmmss[2:4])
        hour, minute, second = int(mmddhhmmss[4:6]), int(mmddhhmmss[6:8]), int(mmddhhmmss[8:10])
    except ValueError:
        return None
    candidates = []
    for year in (now.year - 1, now.year, now.year + 1):
        try:
            candidates.append(datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI))
        except ValueError:
            continue  # 29 February in a common year, or a malformed time
    if not candidates:
        return None
    return min(candidates, key=lambda at: abs(at - now)).astimezone(UTC)
