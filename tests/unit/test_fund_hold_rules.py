"""The hold's rules against hand-worked cases: what may be asked, what each executed step leaves, and two
properties over any sequence of asks (never more taken than the ceiling; never both completed and released)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posrefund.domain.errors import Conflict, DomainError, Invalid
from posrefund.domain.fund_hold import (
    CARD_COMPLETION_TOLERANCE_BP,
    CARD_HOLD_VALIDITY,
    CompletionRef,
    HeldFunds,
    HoldState,
    HoldStatus,
    HoldStep,
    after_expiry,
    after_operation,
    check_operation,
    completion_ceiling,
    expires_within,
    held_fen,
)

HELD_AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def card_hold(amount_fen: int = 10_000, tolerance_bp: int = CARD_COMPLETION_TOLERANCE_BP) -> HeldFunds:
    return HeldFunds(
        channel="card",
        hold_no="PA0001",
        amount_fen=amount_fen,
        currency="CNY",
        held_at=HELD_AT,
        expires_at=HELD_AT + CARD_HOLD_VALIDITY,
        tolerance_bp=tolerance_bp,
        auth_code="123456",
        rrn="112000000001",
        voucher_no="000011",
        batch_no="000001",
    )


def completion(amount_fen: int, at: datetime, *, batch_no: str = "000001", by_notice: bool = False) -> CompletionRef:
    return CompletionRef("HOP1", amount_fen, "112000000002", "654321", "000012", batch_no, at, by_notice)


@pytest.mark.parametrize(
    ("amount_fen", "tolerance_bp", "ceiling"),
    [(10_000, 1_500, 11_500), (333, 1_500, 382), (1, 1_500, 1), (7, 1_500, 8), (10_000, 0, 10_000), (99, 1_000, 108)],
)
def test_the_ceiling_is_the_amount_plus_the_tolerance_rounded_down(
    amount_fen: int, tolerance_bp: int, ceiling: int
) -> None:
    assert completion_ceiling(card_hold(amount_fen, tolerance_bp)) == ceiling


NOW = HELD_AT + timedelta(days=2)
COMPLETED = HoldStatus(HoldState.COMPLETED, 10_000, completion(10_000, NOW))


@pytest.mark.parametrize(
    ("status", "step", "amount_fen", "now", "error", "code"),
    [
        (HoldStatus(), HoldStep.COMPLETE, 11_501, NOW, Invalid, "hold.above_ceiling"),
        (HoldStatus(), HoldStep.COMPLETE, 0, NOW, Invalid, "hold.invalid_amount"),
        (HoldStatus(), HoldStep.RELEASE, -1, NOW, Invalid, "hold.invalid_amount"),
        (HoldStatus(), HoldStep.COMPLETE, 100, HELD_AT + CARD_HOLD_VALIDITY, Conflict, "hold.expired"),
        (HoldStatus(), HoldStep.RELEASE, 10_000, HELD_AT + CARD_HOLD_VALIDITY, Conflict, "hold.expired"),
        (HoldStatus(HoldState.EXPIRED), HoldStep.COMPLETE, 100, NOW, Conflict, "hold.expired"),
        (COMPLETED, HoldStep.RELEASE, 10_000, NOW, Conflict, "hold.already_completed"),
        (COMPLETED, HoldStep.COMPLETE, 100, NOW, Conflict, "hold.not_held"),
        (HoldStatus(HoldState.RELEASED), HoldStep.COMPLETE, 100, NOW, Conflict, "hold.not_held"),
        (HoldStatus(HoldState.RELEASED), HoldStep.RELEASE, 10_000, NOW, Conflict, "hold.not_held"),
        (HoldStatus(), HoldStep.CANCEL_COMPLETION, 10_000, NOW, Conflict, "hold.not_completed"),
        (COMPLETED, HoldStep.CANCEL_COMPLETION, 10_000, NOW + timedelta(days=1), Conflict, "hold.completion_other_day"),
        (COMPLETED, HoldStep.CANCEL_COMPLETION, 9_999, NOW, Invalid, "hold.cancel_amount"),
        (
            HoldStatus(HoldState.COMPLETED, 10_000, completion(10_000, NOW, by_notice=True)),
            HoldStep.CANCEL_COMPLETION,
            10_000,
            NOW,
            Conflict,
            "hold.completion_by_notice",
        ),
        (HoldStatus(), HoldStep.HOLD, 100, NOW, Invalid, "hold.step_not_asked"),
    ],
)
def test_refusals(
    status: HoldStatus, step: HoldStep, amount_fen: int, now: datetime, error: type[DomainError], code: str
) -> None:
    with pytest.raises(error) as raised:
        check_operation(card_hold(), status, step, amount_fen, now)
    assert raised.value.code == code


def test_a_completion_is_cancelled_only_in_its_own_batch_and_shanghai_day() -> None:
    done = HoldStatus(HoldState.COMPLETED, 10_000, completion(10_000, datetime(2026, 11, 22, 15, 59, tzinfo=UTC)))
    # 23:59 Shanghai: the same day, open batch still the completion's
    check_operation(
        card_hold(), done, HoldStep.CANCEL_COMPLETION, 10_000, datetime(2026, 11, 22, 15, 59, 30, tzinfo=UTC)
    )
    with pytest.raises(Conflict) as next_day:  # 00:00 Shanghai: the next day
        check_operation(
            card_hold(), done, HoldStep.CANCEL_COMPLETION, 10_000, datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
        )
    assert next_day.value.code == "hold.completion_other_day"
    with pytest.raises(Conflict) as settled:  # the batch was settled since
        check_operation(
            card_hold(),
            done,
            HoldStep.CANCEL_COMPLETION,
            10_000,
            done.completion.completed_at,
            open_batch_no="000002",  # type: ignore[union-attr]
        )
    assert settled.value.code == "hold.completion_other_day"


def test_what_each_step_leaves() -> None:
    hold = card_hold()
    ref = completion(6_000, NOW)
    partial = after_operation(HoldStatus(), HoldStep.COMPLETE, 6_000, ref)
    assert partial == HoldStatus(HoldState.COMPLETED, 6_000, ref)
    assert held_fen(hold, partial) == 0  # the issuer releases the rest at once
    back = after_operation(partial, HoldStep.CANCEL_COMPLETION, 6_000)
    assert back == HoldStatus(HoldState.HELD) and held_fen(hold, back) == 10_000
    released = after_operation(back, HoldStep.RELEASE, 10_000)
    assert released.state is HoldState.RELEASED and held_fen(hold, released) == 0
    with pytest.raises(Conflict):
        after_operation(released, HoldStep.COMPLETE, 100, ref)


def test_expiry_and_its_warning() -> None:
    hold, held = card_hold(), HoldStatus()
    three_days = timedelta(days=3)
    assert not expires_within(hold, held, hold.expires_at - timedelta(days=4), three_days)
    assert expires_within(hold, held, hold.expires_at - three_days, three_days)
    assert not expires_within(hold, held, hold.expires_at, three_days)  # expired, no longer a warning
    assert after_expiry(hold, held, hold.expires_at - timedelta(seconds=1)) == held
    assert after_expiry(hold, held, hold.expires_at).state is HoldState.EXPIRED
    assert after_expiry(hold, COMPLETED, hold.expires_at) == COMPLETED  # a completion stays a sale


ASKS = st.lists(
    st.tuples(
        st.sampled_from([HoldStep.COMPLETE, HoldStep.RELEASE, HoldStep.CANCEL_COMPLETION]),
        st.integers(min_value=-5, max_value=14_000),
        st.integers(min_value=0, max_value=35 * 24),  # hours after the hold
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(amount=st.integers(min_value=1, max_value=12_000), asks=ASKS)
def test_never_more_than_the_ceiling_and_never_both_completed_and_released(
    amount: int, asks: list[tuple[HoldStep, int, int]]
) -> None:
    hold, status = card_hold(amount), HoldStatus()
    ever_completed = ever_released = False
    for step, asked_fen, hours in sorted(asks, key=lambda a: a[2]):
        now = HELD_AT + timedelta(hours=hours)
        status = after_expiry(hold, status, now)
        try:
            check_operation(hold, status, step, asked_fen, now)
        except DomainError:
            continue
        ref = completion(asked_fen, now) if step is HoldStep.COMPLETE else None
        status = after_operation(status, step, asked_fen, ref)
        assert status.taken_fen <= completion_ceiling(hold)
        assert held_fen(hold, status) in (0, hold.amount_fen)
        ever_completed |= status.state is HoldState.COMPLETED
        ever_released |= status.state is HoldState.RELEASED
        if status.state is HoldState.HELD:
            ever_completed = False  # a completion cancelled the same day is as if never done
    assert not (status.state is HoldState.COMPLETED and ever_released)
    assert not (status.state is HoldState.RELEASED and ever_completed)
