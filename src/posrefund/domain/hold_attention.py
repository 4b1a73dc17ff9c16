"""Holds a person must look at: money that may still be held although posrefund asked for it back.

A release (预授权撤销 / 资金解冻) the channel refused leaves the hold as it was, still held on the payer's account;
a freeze whose outcome stayed unknown and whose withdrawal Alipay refused stays holding. Neither ends by itself
unless the channel says so, so both are listed for a supervisor with the channel's code, and both may be retried.
An operation left unresolved (no more asking allowed) is listed too: the acquirer's file or a person decides.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from posrefund.domain.fund_hold import HoldState, HoldStep

# How long the expiry round waits after a refused release of a lapsed Alipay freeze before asking again (the new
# release is refused again unless Alipay let the money go; its freeze query then ends the hold).
RETRY_REFUSED_AFTER: Final = timedelta(days=1)
# Alipay's order_status of a freeze that holds nothing any more: closed (released in full, withdrawn, or ended by
# Alipay at its own time limit) or finished (paid out with auth_confirm_mode COMPLETE).
ORDER_CLOSED: Final = frozenset({"CLOSED", "FINISH"})
# ``details`` key set on an unresolved freeze whose withdrawal (alipay.fund.auth.operation.cancel) was refused.
WITHDRAWAL: Final = "withdrawal"


class HoldWarning(StrEnum):
    RELEASE_DECLINED = "release_declined"
    WITHDRAWAL_DECLINED = "withdrawal_declined"
    UNRESOLVED = "unresolved"


def warning_of(state: HoldState, step: HoldStep, status: str, details: dict[str, str]) -> HoldWarning | None:
    """The warning a hold's latest operation raises, or None. ``status`` is the operation's queue status."""
    if state not in (HoldState.HELD, HoldState.HOLDING):
        return None
    if status == "declined" and step is HoldStep.RELEASE:
        return HoldWarning.RELEASE_DECLINED
    if status == "unresolved" and step is HoldStep.HOLD and details.get(WITHDRAWAL) == "declined":
        return HoldWarning.WITHDRAWAL_DECLINED
    if status == "unresolved":
        return HoldWarning.UNRESOLVED
    return None


def retry_due(finished_at: datetime | None, expires_at: datetime, now: datetime) -> bool:
    """Whether the expiry round asks again after a refused release or withdrawal: one refused before the hold's
    end is asked again at once once it is over; one refused after, a day later."""
    if finished_at is None:
        return False
    return finished_at < expires_at or finished_at + RETRY_REFUSED_AFTER <= now
