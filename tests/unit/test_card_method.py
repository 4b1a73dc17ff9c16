"""The void-or-refund rule for bank cards, with fixed clocks around the 23:00 settlement cut-off (Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest

from posrefund.domain.card_method import SHANGHAI, business_day, choose_card_method
from posrefund.domain.channel import Method

CUTOFF = time(23, 0)
SALE_AT = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)  # 02:00 UTC


def choose(**kw: Any) -> Method:
    args: dict[str, Any] = {
        "sale_paid_at": SALE_AT,
        "sale_settled": False,
        "sale_batch_no": "000007",
        "open_batch_no": "000007",
        "cutoff_local_time": CUTOFF,
        "now": SALE_AT + timedelta(hours=2),
        "refund_amount_fen": 10_000,
        "sale_amount_fen": 10_000,
        "already_refunded_fen": 0,
    }
    args.update(kw)
    return choose_card_method(**args)


def shanghai(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


def test_whole_refund_of_todays_open_batch_sale_is_a_void() -> None:
    assert choose() is Method.VOID


def test_clock_given_in_utc_is_read_in_shanghai() -> None:
    # 14:59:59 UTC is 22:59:59 in Shanghai: still before the cut-off.
    assert choose(now=datetime(2026, 11, 20, 14, 59, 59, tzinfo=UTC)) is Method.VOID
    assert choose(now=datetime(2026, 11, 20, 15, 0, 0, tzinfo=UTC)) is Method.REFUND


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (shanghai(20, 22, 59, 59), Method.VOID),  # one second before the cut-off
        (shanghai(20, 23, 0, 0), Method.REFUND),  # at the cut-off: the business day has turned
        (shanghai(20, 23, 30), Method.REFUND),  # just after
        (shanghai(21, 0, 5), Method.REFUND),  # past midnight
        (shanghai(21, 9, 0), Method.REFUND),  # next morning
    ],
)
def test_cut_off_turns_the_business_day(now: datetime, expected: Method) -> None:
    assert choose(now=now) is expected


def test_sale_after_the_cut_off_belongs_to_the_next_business_day() -> None:
    late_sale = shanghai(20, 23, 10)
    assert choose(sale_paid_at=late_sale, now=shanghai(20, 23, 50)) is Method.VOID
    assert choose(sale_paid_at=late_sale, now=shanghai(21, 10, 0)) is Method.VOID  # same business day (the 21st)
    assert choose(sale_paid_at=late_sale, now=shanghai(21, 23, 0)) is Method.REFUND


def test_other_cut_off_is_honoured() -> None:
    assert choose(cutoff_local_time=time(22, 0), now=shanghai(20, 22, 30)) is Method.REFUND
    assert choose(cutoff_local_time=time(22, 0), now=shanghai(20, 21, 59)) is Method.VOID


def test_settled_sale_is_refunded() -> None:
    assert choose(sale_settled=True) is Method.REFUND


def test_sale_outside_the_open_batch_is_refunded() -> None:
    assert choose(open_batch_no="000008") is Method.REFUND
    assert choose(sale_batch_no="", open_batch_no="") is Method.REFUND  # the batch is unknown: never guess a void


def test_partial_amount_is_refunded() -> None:
    assert choose(refund_amount_fen=9_999) is Method.REFUND


def test_sale_already_partially_refunded_is_refunded_even_for_the_rest() -> None:
    assert choose(refund_amount_fen=10_000, already_refunded_fen=1) is Method.REFUND
    assert choose(refund_amount_fen=7_000, already_refunded_fen=3_000) is Method.REFUND


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        choose(now=datetime(2026, 11, 20, 12, 0))
    with pytest.raises(ValueError, match="positive"):
        choose(refund_amount_fen=0)


def test_business_day_across_offsets() -> None:
    assert business_day(datetime(2026, 11, 20, 15, 0, tzinfo=UTC), CUTOFF).isoformat() == "2026-11-21"
    tokyo = timezone(timedelta(hours=9))
    assert business_day(datetime(2026, 11, 20, 23, 59, tzinfo=tokyo), CUTOFF).isoformat() == "2026-11-20"
