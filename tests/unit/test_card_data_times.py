"""Dates and times are not card numbers: an ISO 8601 time's clock, fraction and offset make a run of up to 19
digits, and about one time in seventeen held a Luhn-valid window with a card prefix, so a request with an
ordinary ``expires_at`` was refused as ``pan_detected``. A card number beside a time, or dressed as a time that
cannot be one, is still found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from posrefund.domain.pii import PAN, find_card_data, redact_card_numbers
from posrefund.entrypoints.api.pii_guard import _walk

# Offsets in use today, east and west, with the half and three-quarter hours (India, Nepal, Chatham, Marquesas).
OFFSETS = [timedelta(minutes=m) for m in (0, 480, -300, 330, 345, 765, -570, 840, -720, 60, 525)]
times = st.builds(
    lambda moment, offset: moment.replace(tzinfo=UTC).astimezone(timezone(offset)),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1)),
    st.sampled_from(OFFSETS),
)


@settings(max_examples=3000, deadline=None)
@given(times, st.sampled_from(["T", " "]), st.sampled_from(["auto", "milliseconds", "microseconds"]))
@example(datetime(2026, 12, 5, 7, 40, 50, 220955, tzinfo=UTC), "T", "auto")
def test_no_date_and_time_is_taken_for_a_card(moment: datetime, sep: str, timespec: str) -> None:
    written = moment.isoformat(sep=sep, timespec=timespec)
    assert find_card_data(written) is None, written
    assert find_card_data(written.replace("+00:00", "Z")) is None, written
    assert find_card_data(f"到期 {written}，押金 100 元") is None, written
    assert _walk({"expires_at": written}, "") is None, written


def test_the_time_that_was_refused_passes_the_request_guard() -> None:
    assert find_card_data("2026-12-05T07:40:50.220955+00:00") is None
    assert find_card_data("2026-12-05T07:40:50.220955000+00:00") is None  # nanoseconds, as Java writes them
    assert find_card_data("２０２６－１２－０５Ｔ０７：４０：５０．２２０９５５＋００：００") is None  # full width


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-05T07:40:50.220955+00:00 4111 1111 1111 1111",  # a card after a time
        "4111111111111111 2026-12-05T07:40:50+08:00",  # and before one
        "2026-12-05T07:40:50.220955+00:00 4111111111111111",
        "2026-12-05T41:11:11.1111111111",  # no hour 41, and ten fraction digits: not a time
        "2026-12-05T07:41:11.111111111111",  # twelve fraction digits
        "2026-13-05 41:11:11 1111 1111 11",  # no month 13
        "2026-02-30 07:40:50 4111 1111 1111 1111",  # no 30 February: the digits count from the year on
        "07:41:11.1111111111+11:11",  # a clock with no date is digits
        "2026-12-05T07:40:50.41111111+11:11 1111",  # a window reaching beyond the time is tried
        "４１１１ １１１１ １１１１ １１１１",
    ],
)
def test_a_card_beside_a_time_or_dressed_as_one_is_still_found(text: str) -> None:
    assert find_card_data(text) == PAN, text


def test_a_log_line_keeps_its_time_and_loses_the_card() -> None:
    line = "2026-12-05T07:40:50.220955+00:00 卡号 4111 1111 1111 1111 已退款"
    assert redact_card_numbers(line) == "2026-12-05T07:40:50.220955+00:00 卡号 [PAN] 已退款"
