"""Fee contracts and one-off charges against examples worked by hand (the tables below), plus properties."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posrefund.domain.errors import Conflict, Forbidden, Invalid
from posrefund.domain.fee_charges import (
    ChargeTerms,
    OneOffCharge,
    PayoutCase,
    PayoutStatus,
    VolumeLine,
    decide_charge_refund,
)
from posrefund.domain.fees import (
    ChargedLine,
    FeePeriod,
    FeeRule,
    check_new_period,
    fee_accepted,
    fee_due,
    flat_contract,
    overcharge_statement,
    percent,
)
from posrefund.domain.reconciliation import FeeRate
from tests.support.fee_contract import CONTRACT, RAISE

D = date
RAISE_UNSIGNED = FeePeriod(D(2026, 3, 1), RAISE.rules)

# channel, card type, day, settled fen, fee due, worked by hand
DUE = [
    ("card", "credit", D(2026, 1, 10), 10_000, 60),  # 100 yuan × 0.60 % = 0.60 yuan
    ("card", "credit", D(2026, 1, 10), 1_250, 8),  # 7.5 fen, half up → 8
    ("card", "credit", D(2026, 1, 10), 1_249, 7),  # 7.494 fen → 7
    ("card", "debit", D(2026, 1, 10), 100_000, 500),  # 1 000 yuan × 0.50 % = 5.00 yuan, under the cap
    ("card", "debit", D(2026, 1, 10), 400_000, 2_000),  # exactly at the cap
    ("card", "debit", D(2026, 1, 10), 1_000_000, 2_000),  # 10 000 yuan → 50 yuan, capped at 20 yuan
    ("card", "", D(2026, 1, 10), 1_000_000, 6_000),  # card type not said: the highest (credit) is due
    ("wechat", "", D(2026, 1, 10), 99_999, 380),  # 999.99 yuan × 0.38 % = 379.9962 fen → 380, small band
    ("wechat", "", D(2026, 1, 10), 100_000, 550),  # 1 000.00 yuan: large band, 0.55 %
    ("alipay", "", D(2026, 1, 10), 100, 10),  # 1 yuan × 0.38 % = 0.38 fen → 0, raised to the 0.10 minimum
    ("alipay", "", D(2026, 1, 10), 10_000, 38),  # above the minimum
    ("card", "credit", D(2025, 12, 31), 10_000, None),  # before the contract: nothing due, nothing to claim
]


@pytest.mark.parametrize(("channel", "card", "day", "base", "due"), DUE)
def test_fee_due_worked_by_hand(channel: str, card: str, day: date, base: int, due: int | None) -> None:
    assert fee_due([CONTRACT], channel, card, day, base).fee_fen == due


# periods, day, fee due on a 100-yuan credit card sale
RATE_CHANGE = [
    ([CONTRACT, RAISE], D(2026, 2, 28), 60),  # the old period
    ([CONTRACT, RAISE], D(2026, 3, 10), 60),  # new rate in force but not yet agreed: the old rate is due
    ([CONTRACT, RAISE], D(2026, 3, 15), 65),  # agreed that day
    ([CONTRACT, RAISE], D(2026, 3, 20), 65),
    ([CONTRACT, RAISE_UNSIGNED], D(2026, 3, 20), 60),  # never agreed: the old rate stays due
]


@pytest.mark.parametrize(("periods", "day", "due"), RATE_CHANGE)
def test_mid_period_rate_change_binds_from_consent(periods: list[FeePeriod], day: date, due: int) -> None:
    assert fee_due(periods, "card", "credit", day, 10_000).fee_fen == due


def test_a_decrease_needs_no_consent() -> None:
    cheaper = FeePeriod(D(2026, 3, 1), (FeeRule("card", "credit", 5_000),))
    assert fee_due([CONTRACT, cheaper], "card", "credit", D(2026, 3, 5), 10_000).fee_fen == 50


def _line(n: int, day: date, kind: str, channel: str, card: str, base: int, fee: int) -> ChargedLine:
    return ChargedLine(n, n, day, kind, channel, card, base, base, fee)


def test_overcharge_statement_worked_by_hand() -> None:
    lines = [
        _line(1, D(2026, 1, 10), "sale", "card", "credit", 10_000, 60),  # right
        _line(2, D(2026, 1, 10), "sale", "card", "debit", 1_000_000, 5_000),  # cap ignored: 50.00 − 20.00
        _line(3, D(2026, 1, 11), "sale", "wechat", "", 99_999, 550),  # large rate on a small payment
        _line(4, D(2026, 1, 11), "sale", "wechat", "", 100_000, 550),  # right, large band
        _line(5, D(2026, 1, 12), "sale", "alipay", "", 100, 25),  # minimum is 0.10
        _line(6, D(2026, 1, 12), "sale", "card", "credit", 10_000, 61),  # 1 fen over: within tolerance
        _line(7, D(2026, 1, 13), "refund", "card", "credit", 10_000, 0),  # fee not given back: −0.60 due
        _line(8, D(2026, 1, 13), "refund", "alipay", "", 10_000, 0),  # contract keeps the fee: right
        _line(9, D(2026, 3, 10), "sale", "card", "credit", 10_000, 65),  # new rate before consent
        _line(10, D(2026, 3, 20), "sale", "card", "credit", 10_000, 65),  # after consent: right
    ]
    got = [
        (s.line_no, s.charged_fen, s.due_fen, s.difference_fen) for s in overcharge_statement([CONTRACT, RAISE], lines)
    ]
    assert got == [(2, 5_000, 2_000, 3_000), (3, 550, 380, 170), (5, 25, 10, 15), (7, 0, -60, 60), (9, 65, 60, 5)]
    rules = {s.line_no: s.rule for s in overcharge_statement([CONTRACT, RAISE], lines)}
    assert rules[2] == "银行卡 借记卡 0.50%，封顶 20.00 元"
    assert rules[9] == "银行卡 贷记卡 0.60%（2026-03-01 起的调价商户未同意，按原费率）"


def test_reconciliation_accepts_any_card_type_when_the_line_does_not_say() -> None:
    assert fee_accepted([CONTRACT], "card", "", D(2026, 1, 10), 1_000_000, 2_000)  # a debit card, capped
    assert fee_accepted([CONTRACT], "card", "", D(2026, 1, 10), 1_000_000, 6_000)  # a credit card
    assert not fee_accepted([CONTRACT], "card", "", D(2026, 1, 10), 1_000_000, 4_000)
    assert fee_accepted([CONTRACT], "card", "debit", D(2026, 1, 10), 1_000_000, 2_001)  # tolerance


@pytest.mark.parametrize(
    ("new_from", "new_to", "fails"),
    [(D(2026, 1, 1), None, True), (D(2025, 6, 1), None, True), (D(2026, 1, 2), None, False)],
)
def test_history_only_grows(new_from: date, new_to: date | None, fails: bool) -> None:
    new = FeePeriod(new_from, CONTRACT.rules, effective_to=new_to)
    if fails:
        with pytest.raises(Conflict):
            check_new_period([CONTRACT], new)
    else:
        check_new_period([CONTRACT], new)
    bounded = FeePeriod(D(2026, 1, 1), CONTRACT.rules, effective_to=D(2026, 6, 30))
    with pytest.raises(Conflict):
        check_new_period([bounded], FeePeriod(D(2026, 6, 30), CONTRACT.rules))


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"channel": "card", "card_type": "debit", "rate_ppm": -1}, "fees.invalid_rate"),
        (
            {"channel": "card", "card_type": "debit", "rate_ppm": 5_000, "cap_fen": 5, "min_fen": 10},
            "fees.cap_below_minimum",
        ),
        ({"channel": "paypal", "card_type": "any", "rate_ppm": 5_000}, "fees.unknown_channel"),
        ({"channel": "card", "card_type": "gold", "rate_ppm": 5_000}, "fees.unknown_card_type"),
    ],
)
def test_bad_rules_are_refused(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(Invalid) as e:
        FeeRule(**kwargs)  # type: ignore[arg-type]
    assert e.value.code == code


def test_percent_shows_the_contracts_precision() -> None:
    assert (percent(6_000), percent(3_800), percent(5_550), percent(125)) == ("0.60%", "0.38%", "0.555%", "0.0125%")


@given(
    rate=st.integers(0, 100_000),
    minimum=st.integers(0, 5_000),
    extra=st.one_of(st.none(), st.integers(0, 100_000)),
    a=st.integers(0, 10**10),
    b=st.integers(0, 10**10),
)
def test_fee_stays_within_cap_and_minimum_and_grows_with_the_amount(
    rate: int, minimum: int, extra: int | None, a: int, b: int
) -> None:
    cap = None if extra is None else minimum + extra
    rule = FeeRule("card", "debit", rate, cap_fen=cap, min_fen=minimum)
    low, high = sorted((a, b))
    assert rule.fee(low) >= minimum
    assert cap is None or rule.fee(high) <= cap
    assert rule.fee(low) <= rule.fee(high)


# ---- one-off charges ------------------------------------------------------------------------------------------
ACTIVATION = OneOffCharge(
    "c1", "m1", "activation", 29_900, D(2026, 1, 5), D(2026, 1, 5), ChargeTerms("volume", 5_000_000, 90)
)
HISTORY = [
    VolumeLine(D(2026, 1, 10), "sale", "card", 3_000_000),
    VolumeLine(D(2026, 2, 20), "sale", "card", 2_500_000),
    VolumeLine(D(2026, 2, 21), "refund", "card", 300_000),
    VolumeLine(D(2026, 2, 22), "sale", "wechat", 1_000_000),  # another channel: not counted
    VolumeLine(D(2026, 4, 5), "sale", "card", 1_000_000),  # day 91: outside the window (ends 4 April)
]

# history, asked on, refundable, volume counted, explanation
CHARGE_CASES = [
    (
        HISTORY,
        D(2026, 4, 10),
        True,
        5_200_000,
        "激活日 2026-01-05 起 90 天内（至 2026-04-04），银行卡交易净额 52,000.00 元，达到 50,000.00 元的条件，"
        "299.00 元予以退还。",
    ),
    (
        [*HISTORY, VolumeLine(D(2026, 3, 1), "refund", "card", 300_000)],
        D(2026, 3, 2),
        False,
        4_900_000,
        "激活日 2026-01-05 起 90 天内（至 2026-04-04），银行卡交易净额 49,000.00 元，尚差 1,000.00 元达到 "
        "50,000.00 元；期限未到，可稍后再申请。",
    ),
    (
        [*HISTORY, VolumeLine(D(2026, 3, 1), "refund", "card", 300_000)],
        D(2026, 5, 1),
        False,
        4_900_000,
        "激活日 2026-01-05 起 90 天内（至 2026-04-04），银行卡交易净额 49,000.00 元，未达到 50,000.00 元的条件"
        "（差 1,000.00 元），不予退还。",
    ),
]


@pytest.mark.parametrize(("history", "today", "refundable", "volume", "text"), CHARGE_CASES)
def test_activation_fee_volume_terms(
    history: list[VolumeLine], today: date, refundable: bool, volume: int, text: str
) -> None:
    decision = decide_charge_refund(ACTIVATION, history, today)
    assert (decision.refundable, decision.volume_fen, decision.explanation) == (refundable, volume, text)
    assert decision.amount_fen == (29_900 if refundable else 0)


@pytest.mark.parametrize(
    ("returned", "code"),
    [
        (None, "fees.device_not_returned"),
        (D(2026, 1, 11), "fees.charge_refundable"),
        (D(2026, 1, 12), "fees.device_return_late"),
    ],
)
def test_device_return_terms(returned: date | None, code: str) -> None:
    device = OneOffCharge("c2", "m1", "device", 9_900, D(2026, 1, 5), D(2026, 1, 5), ChargeTerms("device_return", 0, 7))
    assert decide_charge_refund(device, [], D(2026, 2, 1), returned).code == code


def test_not_refundable_terms() -> None:
    fee = OneOffCharge("c3", "m1", "service", 5_000, D(2026, 1, 5), D(2026, 1, 5), ChargeTerms("none"))
    decision = decide_charge_refund(fee, HISTORY, D(2026, 2, 1))
    assert (decision.refundable, decision.code, decision.explanation) == (
        False,
        "fees.charge_not_refundable",
        "按约定，该笔 50.00 元费用不予退还。",
    )


def test_payout_needs_three_people_in_order() -> None:
    case = PayoutCase("p1", "m1", "overcharge", PayoutStatus.OPEN, 3_245, "fin-a", datetime.now(UTC))
    with pytest.raises(Forbidden):
        case.approve("fin-a")
    with pytest.raises(Conflict):
        case.pay("fin-b", "TR-1")
    case.approve("fin-b")
    with pytest.raises(Forbidden):
        case.pay("fin-b", "TR-1")
    case.pay("fin-c", "TR-1")
    assert (case.status, case.transfer_ref) == (PayoutStatus.PAID, "TR-1")


@given(amount=st.integers(0, 10**10), rate=st.integers(0, 1_000), large=st.integers(0, 1_000))
def test_flat_rates_read_as_a_contract_charge_what_they_always_did(amount: int, rate: int, large: int) -> None:
    flat = FeeRate("wechat", rate, large, 100_000)
    contract = flat_contract([flat])
    assert fee_due(contract, "wechat", "", D(2026, 11, 20), amount).fee_fen == flat.expected_fee(amount)
