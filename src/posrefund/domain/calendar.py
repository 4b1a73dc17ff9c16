"""Chinese business days and when refunded money should arrive (预计到账)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

# Business days after the channel's success by which the money reaches the payer (DOMAIN.md step 5).
# UnionPay QR (云闪付) is paid from a bank card, so its refunds travel back like a card's.
ARRIVAL_BUSINESS_DAYS = {"card": 3, "unionpay_qr": 3, "cheque": 5}

# The kind of account a wallet refund goes back to, as the channel names it in its answer: a wallet balance
# (微信零钱) is credited within minutes; a bank card takes 1–3 working days (the latest is shown); money
# returned to the merchant's own account is not on its way to the payer at all.
BALANCE, BANK_CARD, MERCHANT_ACCOUNT = "balance", "bank_card", "merchant_account"
RECEIVING_ACCOUNTS = {BALANCE: 0, BANK_CARD: 3, MERCHANT_ACCOUNT: 0}


def add_business_days(start: date, days: int, is_workday: Callable[[date], bool]) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if is_workday(current):
            left -= 1
    return current


def expected_arrival(
    channel: str, method: str, from_day: date, is_workday: Callable[[date], bool], receiving_account: str = ""
) -> date:
    """Cards: within 1–3 working days (the latest is shown); wallets: minutes, unless the channel says the money
    goes to a bank card (``receiving_account``, one of ``RECEIVING_ACCOUNTS``); cash: at once."""
    key = "cheque" if method == "cheque" else channel
    days = RECEIVING_ACCOUNTS.get(receiving_account, ARRIVAL_BUSINESS_DAYS.get(key, 0))
    if method in ("cash", "void"):
        days = 0  # a void never reaches the cardholder's statement: the hold is released at once
    return add_business_days(from_day, days, is_workday) if days else from_day
