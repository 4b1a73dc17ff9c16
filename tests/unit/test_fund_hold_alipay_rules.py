"""An Alipay freeze's rules by hand-worked cases: it starts holding and ends held, failed or cancelled; a
conversion takes part and leaves the rest held (the card keeps its rule: any completion leaves nothing held); a
release frees what is left; and a property: over any sequence of conversions nothing is taken above the freeze."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posrefund.domain.errors import Conflict, IllegalTransition, Invalid
from posrefund.domain.fund_hold import (
    CompletionRef,
    HeldFunds,
    HoldState,
    HoldStatus,
    HoldStep,
    after_freeze_failed,
    after_operation,
    check_operation,
    completion_limit,
    held_fen,
)

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
FREEZE = HeldFunds("alipay", "HF0001", 10_000, "CNY", AT, AT + timedelta(days=30), channel_hold_id="2026112010002001")
HOLDING = HoldStatus(HoldState.HOLDING)


def converted(status: HoldStatus, amount_fen: int) -> HoldStatus:
    done = CompletionRef("HO1", amount_fen, "", "", "", "", AT)
    return after_operation(status, HoldStep.COMPLETE, amount_fen, done, partial=True, limit=FREEZE.amount_fen)


def test_a_freeze_holds_nothing_until_alipay_answers_and_then_all_of_it() -> None:
    assert held_fen(FREEZE, HOLDING) == 0
    held = after_operation(HOLDING, HoldStep.HOLD, FREEZE.amount_fen)
    assert (held.state, held_fen(FREEZE, held)) == (HoldState.HELD, 10_000)
    with pytest.raises(IllegalTransition):
        after_operation(held, HoldStep.HOLD, FREEZE.amount_fen)  # a hold is frozen once


@pytest.mark.parametrize(("withdrawn", "state"), [(False, HoldState.FAILED), (True, HoldState.CANCELLED)])
def test_a_freeze_that_never_held_ends_failed_or_cancelled(withdrawn: bool, state: HoldState) -> None:
    ended = after_freeze_failed(HOLDING, withdrawn=withdrawn)
    assert (ended.state, held_fen(FREEZE, ended)) == (state, 0)
    for step in (HoldStep.COMPLETE, HoldStep.RELEASE):
        with pytest.raises(IllegalTransition) as refused:
            check_operation(FREEZE, ended, step, 1_000, AT)
        assert refused.value.code == "hold.not_held"
    with pytest.raises(IllegalTransition):
        after_freeze_failed(HoldStatus(HoldState.HELD), withdrawn=withdrawn)


def test_nothing_is_asked_of_a_freeze_still_holding() -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_operation(FREEZE, HOLDING, HoldStep.RELEASE, 10_000, AT)
    assert refused.value.code == "hold.not_held"


def test_a_conversion_takes_part_and_the_rest_stays_held_until_released() -> None:
    part = converted(HoldStatus(), 3_000)
    assert (part.state, part.taken_fen, held_fen(FREEZE, part), completion_limit(FREEZE, part)) == (
        HoldState.HELD,
        3_000,
        7_000,
        7_000,
    )
    with pytest.raises(Invalid) as above:
        check_operation(FREEZE, part, HoldStep.COMPLETE, 7_001, AT)
    assert (above.value.code, above.value.params["limit_fen"]) == ("hold.above_ceiling", 7_000)
    check_operation(FREEZE, part, HoldStep.RELEASE, 7_000, AT)  # releasing the rest after a conversion is fine
    released = after_operation(part, HoldStep.RELEASE, 7_000)
    assert (released.state, released.taken_fen, held_fen(FREEZE, released)) == (HoldState.RELEASED, 3_000, 0)


def test_converting_all_of_it_completes_the_freeze() -> None:
    whole = converted(converted(HoldStatus(), 4_000), 6_000)
    assert (whole.state, whole.taken_fen, held_fen(FREEZE, whole)) == (HoldState.COMPLETED, 10_000, 0)
    with pytest.raises(Conflict) as refused:
        check_operation(FREEZE, whole, HoldStep.RELEASE, 1, AT)
    assert refused.value.code == "hold.already_completed"


def test_a_card_completion_still_leaves_nothing_held() -> None:
    card = HeldFunds("card", "PA1", 10_000, "CNY", AT, AT + timedelta(days=30), tolerance_bp=1_500)
    done = after_operation(HoldStatus(), HoldStep.COMPLETE, 3_000, None)
    assert (done.state, held_fen(card, done)) == (HoldState.COMPLETED, 0)


@given(st.lists(st.integers(min_value=1, max_value=12_000), max_size=8))
def test_conversions_never_take_more_than_was_frozen(asks: list[int]) -> None:
    status = HoldStatus()
    for amount in asks:
        try:
            check_operation(FREEZE, status, HoldStep.COMPLETE, amount, AT)
        except (Invalid, Conflict, IllegalTransition):
            continue
        status = converted(status, amount)
        assert 0 <= held_fen(FREEZE, status) == FREEZE.amount_fen - status.taken_fen
    assert status.taken_fen <= FREEZE.amount_fen
