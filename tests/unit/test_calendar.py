"""Arrival dates across Chinese holidays and make-up workdays."""

from __future__ import annotations

from datetime import date

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.domain.calendar import add_business_days, expected_arrival

CAL = ChineseCalendar()


def test_national_day_week_2026() -> None:
    # 2026: Oct 1–7 off (Thu–Wed), Sunday Sep 20 and Saturday Oct 10 are make-up workdays.
    assert not CAL.is_workday(date(2026, 10, 1)) and not CAL.is_workday(date(2026, 10, 7))
    assert CAL.is_workday(date(2026, 10, 10))  # a Saturday, worked
    assert CAL.is_workday(date(2026, 9, 20))  # a Sunday, worked
    # A card refund succeeding on Wednesday Sep 30 arrives by the 3rd working day: Oct 8, 9, 10 (Saturday!).
    assert expected_arrival("card", "refund", date(2026, 9, 30), CAL.is_workday) == date(2026, 10, 10)
    # From Friday Sep 18: Sep 20 (make-up Sunday), 21, 22.
    assert expected_arrival("card", "refund", date(2026, 9, 18), CAL.is_workday) == date(2026, 9, 22)


def test_spring_festival_2026() -> None:
    # Feb 15–23 off; Saturday Feb 14 and Saturday Feb 28 are worked.
    assert add_business_days(date(2026, 2, 13), 1, CAL.is_workday) == date(2026, 2, 14)
    assert add_business_days(date(2026, 2, 14), 1, CAL.is_workday) == date(2026, 2, 24)


def test_wallets_same_day_cash_at_once_and_admin_override_wins() -> None:
    assert expected_arrival("wechat", "refund", date(2026, 10, 3), CAL.is_workday) == date(2026, 10, 3)
    assert expected_arrival("unionpay_qr", "refund", date(2026, 9, 30), CAL.is_workday) == date(2026, 10, 10)
    assert expected_arrival("cash", "cash", date(2026, 10, 3), CAL.is_workday) == date(2026, 10, 3)
    closed_bank = ChineseCalendar({date(2026, 11, 24): False})
    assert expected_arrival("card", "refund", date(2026, 11, 23), closed_bank.is_workday) == date(2026, 11, 27)
    assert expected_arrival("card", "refund", date(2026, 11, 23), CAL.is_workday) == date(2026, 11, 26)
