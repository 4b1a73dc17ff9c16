"""Void (消费撤销) or refund (退货) for a bank-card sale: the one rule, kept pure so it can be tested with fixed clocks.

A void cancels the sale inside the terminal's open batch before the acquirer settles it: the cardholder's hold is
released at once and no fee is charged. Once the batch is settled (or the business day has turned at the
settlement cut-off) only a refund is possible, which is cleared like a new transaction and reaches the card in
1–3 working days. A void is always for the whole amount, so any partial or second refund is a refund.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from posrefund.domain.channel import Method

# China has kept UTC+8 without daylight saving since 1991: a fixed offset is exact and needs no tz database.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def business_day(at: datetime, cutoff_local_time: time) -> date:
    """The acquirer's business day of an instant: the Shanghai calendar day, moved to the next day from the cut-off on.

    A sale at 23:30 with a 23:00 cut-off belongs to tomorrow's batch day, like the acquirer's own books.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business_day needs a timezone-aware datetime")
    local = at.astimezone(SHANGHAI)
    cutoff = cutoff_local_time.replace(tzinfo=None)
    day = local.date()
    return day + timedelta(days=1) if local.time().replace(tzinfo=None) >= cutoff else day


def choose_card_method(
    sale_paid_at: datetime,
    sale_settled: bool,
    sale_batch_no: str,
    open_batch_no: str,
    cutoff_local_time: time,
    now: datetime,
    refund_amount_fen: int,
    sale_amount_fen: int,
    already_refunded_fen: int,
) -> Method:
    """``Method.VOID`` only for a whole, first refund of today's unsettled sale still in the open batch; else REFUND.

    "Today" is the Asia/Shanghai business day that ends at ``cutoff_local_time`` (the acquirer's settlement
    cut-off, e.g. 23:00, a per-acquirer setting). Every condition must hold, because a void the acquirer refuses
    (response 12/64) costs a round trip and a refund is always allowed where a void is.
    """
    if refund_amount_fen <= 0 or already_refunded_fen < 0:
        raise ValueError("refund amount must be positive and the refunded total not negative")
    same_day = business_day(sale_paid_at, cutoff_local_time) == business_day(now, cutoff_local_time)
    in_open_batch = bool(open_batch_no) and sale_batch_no == open_batch_no
    whole_and_first = refund_amount_fen == sale_amount_fen and already_refunded_fen == 0
    if same_day and not sale_settled and in_open_batch and whole_and_first:
        return Method.VOID
    return Method.REFUND
