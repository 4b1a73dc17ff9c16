"""The pure rules of a device return: the 7-day window and the warranty, the documents, itemised deductions,
the move table, and the 3-working-day decision clock on the real Chinese calendar (holidays and 调休)."""

from __future__ import annotations

from datetime import date

import pytest

from posrefund.adapters.calendar_cn import ChineseCalendar
from posrefund.domain import device_return as dr
from posrefund.domain.device_return import Clock, Decision, Deduction, ReturnReason, ReturnStatus
from posrefund.domain.errors import Conflict, Invalid

WORKDAY = ChineseCalendar().is_workday


def code_of(call: object, *args: object) -> str:
    with pytest.raises((Invalid, Conflict)) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.code


def test_seven_days_without_reason_then_only_a_fault_under_warranty() -> None:
    signed = date(2026, 11, 13)
    dr.check_window(signed, date(2026, 11, 20), ReturnReason.NO_REASON, 12)  # the 7th day still counts
    assert (
        code_of(dr.check_window, signed, date(2026, 11, 21), ReturnReason.NO_REASON, 12)
        == "device_return.outside_window"
    )
    dr.check_window(signed, date(2027, 11, 13), ReturnReason.FAULT, 12)
    assert (
        code_of(dr.check_window, signed, date(2027, 11, 14), ReturnReason.FAULT, 12) == "device_return.warranty_expired"
    )
    assert (
        code_of(dr.check_window, None, date(2026, 11, 20), ReturnReason.NO_REASON, 12) == "device_return.not_signed_for"
    )
    assert dr.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_missing_documents_are_named_in_order() -> None:
    assert dr.missing_documents(["invoice", "device_photo", "receipt"], False) == [
        "warranty_card",
        "packaging_photo",
        "return_form",
    ]
    assert dr.missing_documents([k.value for k in dr.required_documents(False)], True) == ["payer_identity"]
    dr.check_document_type(dr.DocumentKind.INVOICE, "application/pdf")
    assert (
        code_of(dr.check_document_type, dr.DocumentKind.DEVICE_PHOTO, "application/pdf")
        == "device_return.document_type"
    )


def test_deductions_are_itemised_and_never_take_all_that_was_paid() -> None:
    items = [Deduction("外壳破损", 5_000), Deduction("缺少充电器", 3_000)]
    assert dr.refund_amount(39_900, Decision.PARTIAL_REFUND, items) == 31_900
    assert dr.refund_amount(39_900, Decision.FULL_REFUND, []) == 39_900
    assert code_of(dr.refund_amount, 39_900, Decision.PARTIAL_REFUND, []) == "device_return.deductions_required"
    assert code_of(dr.refund_amount, 39_900, Decision.FULL_REFUND, items) == "device_return.deductions_not_partial"
    whole = [Deduction("整机", 39_900)]
    assert code_of(dr.refund_amount, 39_900, Decision.PARTIAL_REFUND, whole) == "device_return.deductions_exceed_paid"
    negative = [Deduction("x", -1)]
    assert code_of(dr.refund_amount, 39_900, Decision.PARTIAL_REFUND, negative) == "device_return.deduction_amount"


def test_a_closed_return_takes_no_further_step() -> None:
    dr.step(ReturnStatus.RECEIVED, ReturnStatus.REFUNDED)
    assert code_of(dr.step, ReturnStatus.OPENED, ReturnStatus.REFUNDED) == "device_return.invalid_step"
    for closed in dr.CLOSED:
        assert code_of(dr.step, closed, ReturnStatus.REFUNDED) == "device_return.closed"


def test_the_clock_skips_national_day_and_counts_its_make_up_saturday() -> None:
    # received Wed 30 Sep 2026: 1–7 Oct are holidays, Sat 10 Oct is a make-up working day (调休)
    due = dr.decision_due(date(2026, 9, 30), WORKDAY)
    assert due == date(2026, 10, 10)
    left = {d: dr.working_days_left(date(2026, 10, d), due, WORKDAY) for d in (1, 5, 7, 8, 9, 10, 11, 12)}
    assert left == {1: 3, 5: 3, 7: 3, 8: 2, 9: 1, 10: 0, 11: 0, 12: -1}
    assert dr.clock_of(ReturnStatus.RECEIVED, due, date(2026, 10, 9)) is Clock.RUNNING
    assert dr.clock_of(ReturnStatus.RECEIVED, due, date(2026, 10, 10)) is Clock.LAST_DAY
    assert dr.clock_of(ReturnStatus.RECEIVED, due, date(2026, 10, 11)) is Clock.BREACHED
    assert dr.clock_of(ReturnStatus.REFUNDED, due, date(2026, 10, 11)) is Clock.STOPPED
    assert dr.clock_of(ReturnStatus.OPENED, None, date(2026, 10, 11)) is Clock.NOT_STARTED


def test_a_make_up_sunday_counts_as_a_working_day() -> None:
    assert WORKDAY(date(2026, 9, 20))  # Sunday, worked in exchange for 7 Oct
    assert dr.decision_due(date(2026, 9, 18), WORKDAY) == date(2026, 9, 22)  # Sun 20, Mon 21, Tue 22
    assert dr.decision_due(date(2026, 9, 18), lambda d: d.weekday() < 5) == date(2026, 9, 23)
