"""Chinese business days and when refunded money should arrive (预计到账)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

# Business days after the channel's success by which the money reaches the payer (DOMAIN.md step 5).
# UnionPay QR (云闪付) is paid from a bank card, so its refunds travel back like a card's.
ARRIVAL_BUSINESS_DAYS = {"card": 3, "unionpay_qr": 3, "cheque": 5}


def add_business_days(start: date, days: int, is_workday: Callable[[date], bool]) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if is_workday(current):
            left -= 1
    return current


def expected_arrival(channel: str, method: str, from_day: date, is_workday: Callable[[date], bool]) -> date:
    """Cards: within 1–3 working days (the latest is shown); wallets: minutes; cash: at once."""
    key = "cheque" if method == "cheque" else channel
    days = ARRIVAL_BUSINESS_DAYS.get(key, 0)
    if method in ("cash", "void"):
        days = 0  # a void never reaches the cardholder's statement: the hold is released at once
    return add_business_days(from_day, days, is_workday) if days else from_day
